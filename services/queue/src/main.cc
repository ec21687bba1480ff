// queue-service: QueueService (flyteidl2), EnqueueBatchService (runs-service) and LeaseService (executors) over gRPC
// and Connect on one port.
// Everything is built in setup.cc so tests run exactly what ships.
#include "setup.h"

int main(int argc, char** argv) { return flyte::queue::Main(argc, argv); }
