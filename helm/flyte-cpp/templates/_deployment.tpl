{{/*
The Deployment every control-plane component uses. Call with a dict:
  root       the top context ($)
  component  runs | queue | executor | manager
  values     the component's values (replicas, resources, scheduling, pod annotations/labels, extraEnv)
  binary     the command (runs-service, queue-service, executor, flyte-manager)
  port       the port serving /healthz, /readyz and /metrics
  ports      the container's ports: a list of {name, port}
  config     the rendered config (its checksum rolls the Pods when it changes)
  data       mount the shared data claim at data.mountPath
  state      mount the manager's SQLite claim at /var/lib/flyte/state
  password   FLYTE_DB_PASSWORD from the database Secret
  internal   FLYTE_INTERNAL_TOKEN from the internal token's Secret (runs-service and the executor)
  token      mount the ServiceAccount's token (the Kubernetes API is used)
  spread     add topologySpreadConstraints
  recreate   strategy Recreate (one writer of a ReadWriteOnce claim)
*/}}
{{- define "flyte.deployment" -}}
{{- $root := .root }}{{- $v := .values }}
{{- $name := include "flyte.componentName" (list $root .component) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "flyte.componentLabels" (list $root .component) | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  revisionHistoryLimit: 5
  {{- if .recreate }}
  strategy:
    type: Recreate
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  {{- end }}
  selector:
    matchLabels:
      {{- include "flyte.selectorLabels" (list $root .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "flyte.selectorLabels" (list $root .component) | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ .config | sha256sum }}
        {{- with include "flyte.scrapeAnnotations" (list $root .port) | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: {{ .token }}
      enableServiceLinks: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      {{- if .spread }}
      topologySpreadConstraints:
        {{- include "flyte.topologySpread" (list $root .component $v) | trim | nindent 8 }}
      {{- end }}
      {{- with include "flyte.scheduling" $v | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .binary }}
          image: {{ include "flyte.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [{{ .binary }}, --config, /etc/flyte/config.yaml]
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          env:
            {{- if .password }}
            - name: FLYTE_DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ include "flyte.passwordSecretName" $root }}
                  key: {{ include "flyte.passwordSecretKey" $root }}
            {{- end }}
            {{- if .internal }}
            - name: FLYTE_INTERNAL_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "flyte.internalTokenSecretName" $root }}
                  key: {{ include "flyte.internalTokenSecretKey" $root }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "flyte.probes" .port | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/flyte, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            {{- if .data }}
            - {name: data, mountPath: {{ $root.Values.data.mountPath }}}
            {{- end }}
            {{- if .state }}
            - {name: state, mountPath: /var/lib/flyte/state}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ $name }}
        - name: tmp
          emptyDir: {sizeLimit: 256Mi}
        {{- if .data }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ include "flyte.dataClaim" $root }}
        {{- end }}
        {{- if .state }}
        - name: state
          persistentVolumeClaim:
            claimName: {{ default (include "flyte.componentName" (list $root "manager")) $root.Values.manager.persistence.existingClaim }}
        {{- end }}
{{- end }}

{{/* A ClusterIP Service; call with (dict "root" $ "component" "runs" "values" .Values.runsService "ports" (list ...)). */}}
{{- define "flyte.service" -}}
{{- $root := .root }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flyte.componentName" (list $root .component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "flyte.componentLabels" (list $root .component) | nindent 4 }}
    flyte.org/metrics: "true"
  {{- with .values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .values.service.type }}
  selector:
    {{- include "flyte.selectorLabels" (list $root (default .component .selector)) | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .port }}
      protocol: TCP
    {{- end }}
{{- end }}

{{/* A component's ServiceAccount; call with (list $ "runs" automount). */}}
{{- define "flyte.serviceAccount" -}}
{{- $root := index . 0 }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "flyte.componentName" (list $root (index . 1)) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "flyte.componentLabels" (list $root (index . 1)) | nindent 4 }}
automountServiceAccountToken: {{ index . 2 }}
{{- end }}
