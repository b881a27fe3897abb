// tests/doctest_main.cpp — the one main() every doctest executable links.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
