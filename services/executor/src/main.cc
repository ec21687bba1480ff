// executor: takes leased actions from queue-service, runs them as local processes, reports to runs-service.
// Everything is built in setup.cc so tests run exactly what ships.
#include "setup.h"

int main(int argc, char** argv) { return flyte::executor::Main(argc, argv); }
