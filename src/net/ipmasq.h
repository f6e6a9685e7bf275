/* The bridge plugin's ipMasq, as containernetworking-plugins 1.1.1 does it
 * (pkg/ip/ipmasq_linux.go, pkg/utils.FormatChainName/FormatComment), through
 * the iptables command (Debian's is iptables-nft): per pod address, in the
 * nat table,
 *
 *   :CNI-<first 24 hex digits of sha512(network name + container id)>
 *   -A POSTROUTING -s <pod ip>/32 -j CHAIN -m comment --comment C
 *   -A CHAIN -d <pod subnet> -j ACCEPT -m comment --comment C
 *   -A CHAIN ! -d 224.0.0.0/4 -j MASQUERADE -m comment --comment C   (ff00::/8)
 *
 * with C = name: "<network>" id: "<container id>". The plugin's DEL removes
 * them only when it still finds the pod's interface in its namespace (it
 * learns the addresses there): after a supervisor killed with SIGKILL, a
 * reboot, or an ADD that failed after the bridge, the chain and its jump
 * would stay. pp_ipmasq_remove removes exactly that pod's chain and jump. */
#ifndef PEAPOD_IPMASQ_H
#define PEAPOD_IPMASQ_H

#include <stdbool.h>

#include <json-c/json.h>

#include "util/error.h"

#define PP_IPMASQ_CHAIN_LEN 28

/* The chain's name into chain (PP_IPMASQ_CHAIN_LEN + 1 bytes). */
void pp_ipmasq_chain(const char *network, const char *container_id,
		     char chain[PP_IPMASQ_CHAIN_LEN + 1]);

/* The comment the plugin gives the rules (Go's %q of both). A new string. */
char *pp_ipmasq_comment(const char *network, const char *container_id);

/* Whether a conflist has a bridge plugin with "ipMasq": true. */
bool pp_ipmasq_wanted(struct json_object *conflist);

/* The plugin's rules for one address ("10.89.0.5/16"), in one
 * iptables-restore transaction. On failure nothing is added. */
int pp_ipmasq_add(const char *network, const char *container_id, const char *address,
		  struct pp_error **err);

/* Removes the pod's chain and the POSTROUTING rules that jump to it, where
 * they are left (IPv4; IPv6 too when v6). Nothing left: one iptables-save
 * and nothing else. Idempotent. */
int pp_ipmasq_remove(const char *network, const char *container_id, bool v6, struct pp_error **err);

/* Removes what pp_ipmasq_add added, in one iptables-restore when it is all
 * there, else as pp_ipmasq_remove. Idempotent. */
int pp_ipmasq_del(const char *network, const char *container_id, const char *address,
		  struct pp_error **err);

#endif
