// The system's SQLite (Debian: libsqlite3-dev; macOS: the SDK's), the one SQLite of the process.
#include <sqlite3.h>
