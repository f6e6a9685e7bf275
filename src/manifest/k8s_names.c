#include "manifest/k8s_names.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_label_span(const char *s, size_t len)
{
	if (len == 0 || len > PP_DNS1123_LABEL_MAX)
		return false;
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pp_is_dns1123_label(const char *s)
{
	return is_label_span(s, strlen(s));
}

bool pp_is_dns1123_subdomain(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > PP_DNS1123_SUBDOMAIN_MAX)
		return false;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		/* a subdomain's labels may each be up to the whole length */
		if (n == 0 || !is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1]))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!is_lower_alnum(p[i]) && p[i] != '-')
				return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

bool pp_is_iana_svc_name(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;
	if (len == 0 || len > PP_IANA_SVC_NAME_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	if (strstr(s, "--") != NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	return letter;
}

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

static bool is_name_part(const char *s, size_t len)
{
	if (len == 0 || len > PP_LABEL_VALUE_MAX)
		return false;
	if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

bool pp_is_label_value(const char *s)
{
	return s[0] == '\0' || is_name_part(s, strlen(s));
}

bool pp_is_qualified_name(const char *s)
{
	const char *slash = strchr(s, '/');
	if (slash == NULL)
		return is_name_part(s, strlen(s));
	char prefix[PP_DNS1123_SUBDOMAIN_MAX + 1];
	size_t plen = (size_t)(slash - s);
	if (plen == 0 || plen > PP_DNS1123_SUBDOMAIN_MAX)
		return false;
	memcpy(prefix, s, plen);
	prefix[plen] = '\0';
	return pp_is_dns1123_subdomain(prefix) && is_name_part(slash + 1, strlen(slash + 1));
}

bool pp_is_env_var_name(const char *s)
{
	if (s[0] == '\0' || isdigit((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!is_alnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return true;
}

bool pp_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}
