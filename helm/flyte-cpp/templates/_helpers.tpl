{{/*
Names, labels and the shared pieces of the Pod specs. Object names are "<fullname>-<component>", components:
runs, queue, executor, manager, postgresql, task, data.
*/}}

{{- define "flyte.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "flyte.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<component>"; call with (list $ "runs"). */}}
{{- define "flyte.componentName" -}}
{{- printf "%s-%s" (include "flyte.fullname" (index . 0)) (index . 1) }}
{{- end }}

{{- define "flyte.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "flyte.labels" -}}
helm.sh/chart: {{ include "flyte.chart" . }}
app.kubernetes.io/name: {{ include "flyte.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flyte-cpp
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of a component's objects; call with (list $ "runs"). */}}
{{- define "flyte.componentLabels" -}}
{{ include "flyte.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Selector labels (never change after install); call with (list $ "runs"). */}}
{{- define "flyte.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flyte.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Namespace of TaskActions, task Pods and the executor's Lease. */}}
{{- define "flyte.tasksNamespace" -}}
{{- default .Release.Namespace .Values.tasks.namespace }}
{{- end }}

{{- define "flyte.taskServiceAccountName" -}}
{{- default (include "flyte.componentName" (list . "task")) .Values.tasks.serviceAccount.name }}
{{- end }}

{{/* The data claim as the control plane (release namespace) mounts it. */}}
{{- define "flyte.dataClaim" -}}
{{- default (include "flyte.componentName" (list . "data")) .Values.data.persistence.existingClaim }}
{{- end }}

{{/* The data claim as task Pods (tasks namespace) mount it. */}}
{{- define "flyte.tasksDataClaim" -}}
{{- if ne (include "flyte.tasksNamespace" .) .Release.Namespace }}
{{- required "data.persistence.tasksClaim: task Pods run in another namespace than the release and can only mount a claim there; create one on the same ReadWriteMany storage and name it here" .Values.data.persistence.tasksClaim }}
{{- else }}
{{- include "flyte.dataClaim" . }}
{{- end }}
{{- end }}

{{- define "flyte.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* runs-service's address as task Pods and the executor reach it (fully qualified: tasks may be elsewhere). */}}
{{- define "flyte.runsEndpoint" -}}
{{- printf "%s.%s.svc:%d" (include "flyte.componentName" (list . "runs")) .Release.Namespace (int .Values.runsService.port) }}
{{- end }}

{{- define "flyte.queueEndpoint" -}}
{{- printf "%s.%s.svc:%d" (include "flyte.componentName" (list . "queue")) .Release.Namespace (int .Values.queueService.port) }}
{{- end }}

{{- define "flyte.passwordSecretName" -}}
{{- default (include "flyte.componentName" (list . "db")) .Values.databasePassword.existingSecret }}
{{- end }}

{{- define "flyte.passwordSecretKey" -}}
{{- if .Values.databasePassword.existingSecret }}{{ .Values.databasePassword.existingSecretKey }}{{ else }}password{{ end }}
{{- end }}

{{- define "flyte.internalTokenSecretName" -}}
{{- default (include "flyte.componentName" (list . "internal")) .Values.internalToken.existingSecret }}
{{- end }}

{{- define "flyte.internalTokenSecretKey" -}}
{{- if .Values.internalToken.existingSecret }}{{ .Values.internalToken.existingSecretKey }}{{ else }}token{{ end }}
{{- end }}

{{/* Prometheus scrape annotations; call with (list $ port). */}}
{{- define "flyte.scrapeAnnotations" -}}
{{- if (index . 0).Values.monitoring.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ index . 1 | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/*
A component's topologySpreadConstraints: the configured list, else spread over nodes, best effort.
Call with (list $ "runs" .Values.runsService).
*/}}
{{- define "flyte.topologySpread" -}}
{{- $root := index . 0 }}{{ $component := index . 1 }}{{ $values := index . 2 }}
{{- if $values.topologySpreadConstraints }}
{{- toYaml $values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "flyte.selectorLabels" (list $root $component) | nindent 6 }}
{{- end }}
{{- end }}

{{/* Probes on a port serving /healthz and /readyz; call with the port number. */}}
{{- define "flyte.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ . }}}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: {{ . }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ . }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end }}

{{/* Scheduling fields shared by every Deployment; call with a component's values. */}}
{{- define "flyte.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
Rendered service configs. Each is built as YAML, read back as a dict, merged with the component's extraConfig and
written out again (keys sorted), so a key of the user's wins.
*/}}
{{- define "flyte.config.runs" -}}
runs:
  server:
    host: "0.0.0.0"
    port: {{ .Values.runsService.port }}
  workerThreads: {{ .Values.runsService.workerThreads }}
  watchBufferSize: {{ .Values.runsService.watchBufferSize }}
  storagePrefix: {{ printf "file://%s" .Values.data.mountPath | quote }}
  internalTokenEnv: FLYTE_INTERNAL_TOKEN
  queue:
    endpoint: {{ include "flyte.queueEndpoint" . | quote }}
  logs:
    source: kubernetes
    kubernetes:
      namespace: {{ include "flyte.tasksNamespace" . | quote }}
database:
  type: postgres
  postgres:
    {{- if .Values.postgresql.enabled }}
    host: {{ printf "%s.%s.svc" (include "flyte.componentName" (list . "postgresql")) .Release.Namespace | quote }}
    port: {{ .Values.postgresql.port }}
    dbname: {{ .Values.postgresql.database | quote }}
    username: {{ .Values.postgresql.username | quote }}
    extraOptions: "sslmode=disable"
    {{- else }}
    host: {{ required "externalDatabase.host is required when postgresql.enabled is false" .Values.externalDatabase.host | quote }}
    port: {{ .Values.externalDatabase.port }}
    dbname: {{ .Values.externalDatabase.database | quote }}
    username: {{ .Values.externalDatabase.username | quote }}
    extraOptions: {{ .Values.externalDatabase.extraOptions | quote }}
    {{- end }}
    passwordEnv: FLYTE_DB_PASSWORD
  maxOpenConnections: {{ max .Values.externalDatabase.maxOpenConnections .Values.runsService.workerThreads }}
  maxIdleConnections: {{ .Values.runsService.workerThreads }}
logger:
  level: {{ .Values.logLevel }}
  show-source: false
{{- end }}

{{- define "flyte.config.queue" -}}
queue:
  server:
    host: "0.0.0.0"
    port: {{ .Values.queueService.port }}
  backend: kubernetes
  kubernetes:
    namespace: {{ include "flyte.tasksNamespace" . | quote }}
  maintenanceInterval: {{ .Values.queueService.maintenanceInterval | quote }}
logger:
  level: {{ .Values.logLevel }}
  show-source: false
{{- end }}

{{/* The executor's options shared by the executor and flyte-manager (which sets server/endpoints itself). */}}
{{- define "flyte.config.executorCommon" -}}
taskEndpoint: {{ include "flyte.runsEndpoint" . | quote }}
dataRoot: {{ .Values.data.mountPath | quote }}
killGracePeriod: {{ .Values.executor.killGracePeriod | quote }}
kubernetes:
  {{- if eq .Values.mode "services" }}
  namespace: {{ include "flyte.tasksNamespace" . | quote }}
  {{- end }}
  serviceAccountName: {{ include "flyte.taskServiceAccountName" . | quote }}
  dataVolumeClaim: {{ include "flyte.tasksDataClaim" . | quote }}
  taskTmpOnDataVolume: {{ .Values.tasks.tmpOnDataVolume }}
  nodeSelector: {{ toJson .Values.tasks.nodeSelector }}
  tolerations: {{ toJson .Values.tasks.tolerations }}
  imagePullSecrets: {{ toJson .Values.tasks.imagePullSecrets }}
  defaultResources: {{ toJson .Values.tasks.defaultResources }}
  workers: {{ .Values.executor.workers }}
  imagePullGracePeriod: {{ .Values.executor.imagePullGracePeriod | quote }}
  resyncPeriod: {{ .Values.executor.resyncPeriod | quote }}
  retention: {{ .Values.tasks.retention | quote }}
  leaderElection:
    enabled: true
    leaseName: {{ .Values.executor.leaderElection.leaseName | quote }}
    leaseDuration: {{ .Values.executor.leaderElection.leaseDuration | quote }}
    renewDeadline: {{ .Values.executor.leaderElection.renewDeadline | quote }}
    retryPeriod: {{ .Values.executor.leaderElection.retryPeriod | quote }}
{{- end }}

{{- define "flyte.config.executor" -}}
executor:
  server:
    host: "0.0.0.0"
    port: {{ .Values.executor.port }}
  runtime: kubernetes
  runsEndpoint: {{ include "flyte.runsEndpoint" . | quote }}
  internalTokenEnv: FLYTE_INTERNAL_TOKEN
  {{- include "flyte.config.executorCommon" . | nindent 2 }}
logger:
  level: {{ .Values.logLevel }}
  show-source: false
{{- end }}

{{- define "flyte.config.manager" -}}
manager:
  runsService:
    host: "0.0.0.0"
    port: {{ .Values.runsService.port }}
  queueService:
    host: "0.0.0.0"
    port: {{ .Values.queueService.port }}
  executor:
    healthProbePort: {{ .Values.executor.port }}
  kubernetes:
    namespace: {{ include "flyte.tasksNamespace" . | quote }}
database:
  type: sqlite
  sqlite:
    file: /var/lib/flyte/state/flyte.db
logger:
  level: {{ .Values.logLevel }}
  show-source: false
runs:
  workerThreads: {{ .Values.runsService.workerThreads }}
  watchBufferSize: {{ .Values.runsService.watchBufferSize }}
  storagePrefix: {{ printf "file://%s" .Values.data.mountPath | quote }}
queue:
  maintenanceInterval: {{ .Values.queueService.maintenanceInterval | quote }}
executor:
  {{- include "flyte.config.executorCommon" . | nindent 2 }}
{{- end }}

{{/* A config rendered and merged with extraConfig; call with (list $ "runs" .Values.runsService.extraConfig). */}}
{{- define "flyte.config" -}}
{{- $root := index . 0 }}
{{- $base := include (printf "flyte.config.%s" (index . 1)) $root | fromYaml }}
{{- toYaml (mustMergeOverwrite $base (deepCopy (index . 2))) }}
{{- end }}
