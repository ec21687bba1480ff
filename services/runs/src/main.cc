// runs-service: RunService, TaskService and StateService over gRPC and Connect on one port.
// Everything is built in setup.cc so tests run exactly what ships.
#include "setup.h"

int main(int argc, char** argv) { return flyte::runs::Main(argc, argv); }
