// libpq, PostgreSQL's C client (Debian package libpq-dev; the header lives in
// /usr/include/postgresql, which `pkg-config libpq` adds). The archive writes through it.
#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
