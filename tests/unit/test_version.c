/* test_version.c -- numeric comparison of version digit strings. */
#include "internal.h"
#include "unit.h"

void test_version(void)
{
    CHECK_INT(version_cmp("0012", "12"), 0);
    CHECK_INT(version_cmp("12", "0012"), 0);
    CHECK_INT(version_cmp("9", "10"), -1);
    CHECK_INT(version_cmp("10", "9"), 1);
    CHECK_INT(version_cmp("0009", "10"), -1);
    CHECK_INT(version_cmp("2", "10"), -1);
    CHECK_INT(version_cmp("0001", "0002"), -1);
    CHECK_INT(version_cmp("0", "00"), 0);
    CHECK_INT(version_cmp("00", "0"), 0);
    CHECK_INT(version_cmp("0", "1"), -1);
    CHECK_INT(version_cmp("000", "0001"), -1);
    CHECK_INT(version_cmp("1", "1"), 0);
    /* length decides before the first differing digit */
    CHECK_INT(version_cmp("124", "1234"), -1);
    CHECK_INT(version_cmp("1234", "124"), 1);
    CHECK_INT(version_cmp("1299", "1300"), -1);
    CHECK_INT(version_cmp("1300", "1299"), 1);
    /* beyond 64 bits */
    CHECK_INT(version_cmp("20150100000001000000", "20150100000000999999"), 1);
    CHECK_INT(version_cmp("20150100000000999999", "20150100000001000000"), -1);
    CHECK_INT(version_cmp("20150100000001000000", "020150100000001000000"), 0);
    CHECK_INT(version_cmp("99999999999999999999", "100000000000000000000"), -1);
    CHECK_INT(version_cmp("18446744073709551616", "18446744073709551615"), 1);
    CHECK_INT(version_cmp("20261123120000", "9999"), 1);
}
