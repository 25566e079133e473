#ifndef PAPERPOST_CCURL_SHIM_H
#define PAPERPOST_CCURL_SHIM_H

#include <curl/curl.h>

/*
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
 * call. Each wrapper below fixes the argument type, so Swift passes exactly
 * the C type that libcurl reads for that family of options.
 */

/* Shape shared by CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION and CURLOPT_READFUNCTION. */
typedef size_t (*ccurl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);

/* Shape of CURLOPT_XFERINFOFUNCTION; a non-zero return aborts the transfer. */
typedef int (*ccurl_xferinfo_callback)(void *userdata,
                                       curl_off_t download_total, curl_off_t download_now,
                                       curl_off_t upload_total, curl_off_t upload_now);

/* CURL_GLOBAL_DEFAULT is a macro expression; exported as a value Swift can read. */
static const long ccurl_global_default = CURL_GLOBAL_DEFAULT;

/* Options of type CURLOPTTYPE_LONG (and CURLOPTTYPE_VALUES). */
static inline CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/* Options of type CURLOPTTYPE_STRINGPOINT; libcurl copies these strings. */
static inline CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/* Options of type CURLOPTTYPE_OBJECTPOINT / CBPOINT / SLISTPOINT (data pointers, curl_slist *). */
static inline CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/* Options of type CURLOPTTYPE_OFF_T (sizes that may exceed a long). */
static inline CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_easy_setopt_write_callback(CURL *handle, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode ccurl_easy_setopt_header_callback(CURL *handle, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode ccurl_easy_setopt_read_callback(CURL *handle, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode ccurl_easy_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

static inline CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

/* The string stays owned by the handle and is valid only until its next use. */
static inline CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
