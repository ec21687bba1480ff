// flyte-manager: runs-service, queue-service and the executor in one process on one database.
// Everything is built in setup.cc from each service's own setup, so tests run exactly what ships.
#include "setup.h"

int main(int argc, char** argv) { return flyte::manager::Main(argc, argv); }
