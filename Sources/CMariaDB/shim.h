#ifndef PARKLINK_CMARIADB_SHIM_H
#define PARKLINK_CMARIADB_SHIM_H
#include <stddef.h> /* NULL, size_t: mysql.h does not include it */
#include <mysql.h>

/* mysql_optionsv is variadic and mysql_library_init is a macro: Swift sees neither. */
static inline int parklink_mysql_option_uint(MYSQL *m, enum mysql_option opt, unsigned int value) {
    return mysql_optionsv(m, opt, &value);
}
static inline int parklink_mysql_option_bool(MYSQL *m, enum mysql_option opt, my_bool value) {
    return mysql_optionsv(m, opt, &value);
}
static inline int parklink_mysql_option_string(MYSQL *m, enum mysql_option opt, const char *value) {
    return mysql_optionsv(m, opt, value);
}
static inline int parklink_stmt_set_array_size(MYSQL_STMT *stmt, unsigned int size) {
    return mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &size);
}
static inline int parklink_mysql_library_init(void) {
    return mysql_server_init(0, NULL, NULL);
}

/* MYSQL_BIND.u is an anonymous-member union (row_ptr | indicator): set the indicator array
   (one `char` per row: STMT_INDICATOR_NONE / STMT_INDICATOR_NULL) without spelling the union. */
static inline void parklink_bind_set_indicator(MYSQL_BIND *bind, char *indicators) {
    bind->u.indicator = indicators;
}

/* enum_indicator_type values as plain chars, for filling indicator arrays. */
static const char PARKLINK_INDICATOR_NONE = STMT_INDICATOR_NONE;
static const char PARKLINK_INDICATOR_NULL = STMT_INDICATOR_NULL;
#endif
