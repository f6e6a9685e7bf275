/* The name and value formats of k8s.io/apimachinery/pkg/util/validation. */
#ifndef PEAPOD_K8S_NAMES_H
#define PEAPOD_K8S_NAMES_H

#include <stdbool.h>

#define PP_DNS1123_LABEL_MAX 63
#define PP_DNS1123_SUBDOMAIN_MAX 253
#define PP_IANA_SVC_NAME_MAX 15
#define PP_LABEL_VALUE_MAX 63

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters */
bool pp_is_dns1123_label(const char *s);
/* dot-separated DNS-1123 labels, at most 253 characters */
bool pp_is_dns1123_subdomain(const char *s);
/* port names: at most 15 of [-a-z0-9], a letter somewhere, no "--", no '-' at either end */
bool pp_is_iana_svc_name(const char *s);
/* label values: empty or [A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?, at most 63 */
bool pp_is_label_value(const char *s);
/* label and annotation keys: [DNS-subdomain "/"] name, name like a label value, not empty */
bool pp_is_qualified_name(const char *s);
/* environment variable names: [-._a-zA-Z][-._a-zA-Z0-9]* */
bool pp_is_env_var_name(const char *s);
/* an IPv4 or IPv6 address */
bool pp_is_ip(const char *s);

#endif
