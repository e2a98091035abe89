package config

// badCases maps each file in testdata/bad to the exact error text Load must
// return for it: one string per error, in the order reported (by line),
// each prefixed by the file name when compared. Edit a file in
// testdata/bad together with its entry here.
var badCases = []struct {
	file string
	want []string
}{
	{"bad_fingerprints", []string{
		":5: pve[0].tls.fingerprint: not a SHA-256 certificate fingerprint (fingerprint has 3 bytes, a SHA-256 fingerprint has 32); want 32 bytes in hex, colons optional, as `proxmox-backup-manager cert info` or `openssl x509 -noout -fingerprint -sha256` print it",
		":9: pve[1].tls.fingerprint: not a SHA-256 certificate fingerprint (fingerprint is not hexadecimal: \"zz3456789abcdef01234…\"); want 32 bytes in hex, colons optional, as `proxmox-backup-manager cert info` or `openssl x509 -noout -fingerprint -sha256` print it",
		":13: pve[2].tls.fingerprint: not a SHA-256 certificate fingerprint (fingerprint: group 1 is \"ABC\", want two hex digits between colons); want 32 bytes in hex, colons optional, as `proxmox-backup-manager cert info` or `openssl x509 -noout -fingerprint -sha256` print it",
	}},
	{"bad_namespaces", []string{
		`:6: pbs[0].namespaces[0]: "/homelab" is not a namespace path: names of letters, digits, ".", "_" and "-" separated by "/", without a leading or trailing "/" ("" is the root)`,
		`:6: pbs[0].namespaces[1]: "a//b" is not a namespace path: names of letters, digits, ".", "_" and "-" separated by "/", without a leading or trailing "/" ("" is the root)`,
		`:6: pbs[0].namespaces[2]: "a/b/c/d/e/f/g/h" is 8 levels deep; PBS allows at most 7`,
		`:6: pbs[0].namespaces[4]: namespace "ok" is listed twice (first on line 6)`,
		`:6: pbs[0].namespaces[5]: "sp ace" is not a namespace path: names of letters, digits, ".", "_" and "-" separated by "/", without a leading or trailing "/" ("" is the root)`,
	}},
	{"bad_token_ids", []string{
		`:3: pve[0].token_id: is a user, not an API token: add "!" and the token name; want USER@REALM!TOKENNAME, e.g. exporter@pve!backup`,
		":6: pve[1].token_id: looks like it includes the secret: token_id is only USER@REALM!TOKENNAME, the secret goes in token_secret_file or token_secret",
		":9: pve[2].token_id: has no realm: want USER@REALM!TOKENNAME, e.g. exporter@pve!backup",
		":12: pve[3].token_id: is empty; want USER@REALM!TOKENNAME, e.g. exporter@pve!backup",
	}},
	{"bad_urls", []string{
		":3: pve[0].urls[0]: http:// is refused: the API token would cross the network in clear text; use https:// (Proxmox serves its API over HTTPS only)",
		`:4: pve[0].urls[1]: drop "/api2/json" from the URL: the exporter adds /api2/json itself`,
		":5: pve[0].urls[2]: has no scheme; want https://host.example.org:8006",
		":6: pve[0].urls[3]: must not contain a user or password: authentication uses token_id and the token secret",
		`:7: pve[0].urls[4]: scheme "ftp" is not supported; want https://host.example.org:8006`,
		":8: pve[0].urls[5]: port 99999 is not between 1 and 65535",
		":9: pve[0].urls[6]: has no host; want https://host.example.org:8006",
		":10: pve[0].urls[7]: must not have a query or fragment; want https://host.example.org:8006",
		`:11: pve[0].urls[8]: drop "/api2/json/" from the URL: the exporter adds /api2/json itself`,
	}},
	{"ca_files", []string{
		":5: pve[0].tls.ca_file: cannot read /nonexistent/ca.pem: no such file",
		`:9: pve[1].tls.ca_file: testdata/bad/ca_files.yml holds no PEM certificate (want "-----BEGIN CERTIFICATE-----" blocks)`,
	}},
	{"duplicate_key", []string{
		":5: pve[0].token_id: key repeated; it was already set on line 3",
	}},
	{"duplicate_names", []string{
		`:6: pve[1].name: name "homelab" is already used by pve[0] (line 2); target names must be unique across pve and pbs`,
		`:11: pbs[0].name: name "homelab" is already used by pve[0] (line 2); target names must be unique across pve and pbs`,
	}},
	{"duplicate_urls", []string{
		":2: pve[0].urls: https://pve1.example.org:8006 is already listed in pve[0].urls (line 2)",
		":5: pve[1].urls: https://pve1.example.org:8006 is already listed in pve[0].urls (line 2)",
	}},
	{"empty_file", []string{
		": no targets: configure at least one pve or pbs target (either list may be empty, not both)",
	}},
	{"env_malformed", []string{
		`:2: pve[0].urls[0]: unterminated "${": write "${NAME}", or "$$" for a literal "$"`,
		`:3: pve[0].token_id: invalid variable name "1USER" in "${...}": want letters, digits and "_", not starting with a digit, or "$$" for a literal "$"`,
	}},
	{"env_missing", []string{
		":2: pve[0].urls[0]: environment variable TEST_UNSET_HOST is not set",
		":4: pve[0].token_secret: environment variable TEST_UNSET_SECRET is not set",
	}},
	{"inline_secret_bad", []string{
		":4: pve[0].token_secret: the token secret is empty",
		":7: pve[1].token_secret: the token secret contains white space or control characters; it must hold only the token secret",
		":10: pve[2].token_secret: want a string, got a list",
		`:13: pve[3].token_secret: invalid "${...}" reference: want "${NAME}" with NAME made of letters, digits and "_", or "$$" for a literal "$"`,
	}},
	{"insecure_contradictions", []string{
		":7: pve[0].tls.insecure_skip_verify: contradicts the fingerprint pin on line 6: with insecure_skip_verify the pin is not checked; remove one of them (keep the pin)",
		":13: pve[1].tls.insecure_skip_verify: contradicts ca_file on line 12: with insecure_skip_verify the CA is not checked; remove one of them",
	}},
	{"key_in_wrong_place", []string{
		":5: pve[0].namespaces: unknown key; namespaces applies to pbs targets only",
		":6: pve[0].fingerprint: unknown key; fingerprint belongs under tls:",
	}},
	{"many_errors", []string{
		":4: pbs[0].urls[0]: http:// is refused: the API token would cross the network in clear text; use https:// (Proxmox serves its API over HTTPS only)",
		`:5: pbs[0].token_id: is a user, not an API token: add "!" and the token name; want USER@REALM!TOKENNAME, e.g. exporter@pbs!backup`,
		":7: pbs[0].tls.fingerprint: not a SHA-256 certificate fingerprint (fingerprint has 2 bytes, a SHA-256 fingerprint has 32); want 32 bytes in hex, colons optional, as `proxmox-backup-manager cert info` or `openssl x509 -noout -fingerprint -sha256` print it",
		`:12: pve[0].tlss: unknown key; did you mean "tls"?`,
	}},
	{"estates", []string{
		`:10: estates[0].pbs[0].urls: https://pbs.example.org:8007 is already listed in pbs[0].urls (line 3), in estate "default"; a target belongs to one estate only (estates are counted apart, so its backups would be counted twice)`,
		`:14: estates[0].routes[0]: a storage route needs a pve target, and none is configured`,
		`:16: estates[0].routes[0].to: "other" is not a configured pbs target; want one of shared, or "pve" or "ignore"`,
		`:17: estates[1].name: estate "acme" is already defined by estates[0] (line 7); estate names must be unique`,
		`:23: estates[2]: the estate has no targets: list at least one pve or pbs target in it`,
		`:23: estates[2].name: "default" is reserved for the estate of the top-level pve, pbs and routes; choose another name`,
		`:25: estates[3]: name is required for an estate: /probe?estate=NAME selects it`,
		`:25: estates[3]: the estate has no targets: list at least one pve or pbs target in it`,
		`:26: estates[4].name: "bad name" is not a valid estate name: use letters, digits, ".", "_" and "-" (it is the estate parameter of /probe and usually a label value)`,
		`:28: estates[5].nme: unknown key; did you mean "name"?`,
	}},
	{"merge_key", []string{
		":1: defaults: unknown key; known keys here: pve, pbs, routes, estates",
		":4: pve[0]: token_id is required: the API token as USER@REALM!TOKENNAME, e.g. exporter@pve!backup",
		":4: pve[0].<<: unknown key; YAML merge keys are not supported; repeat the keys instead",
	}},
	{"missing_required", []string{
		":2: pve[0]: urls is required: list the API endpoints, e.g. urls: [https://pve.example.org:8006]",
		":2: pve[0]: token_id is required: the API token as USER@REALM!TOKENNAME, e.g. exporter@pve!backup",
		":2: pve[0]: token_secret_file (or token_secret) is required: the API token's secret",
		":4: pbs[0]: name is required for a pbs target: routes and repository labels refer to it",
		":4: pbs[0].urls: list at least one API URL, e.g. urls: [https://pbs.example.org:8007]",
	}},
	{"no_targets", []string{
		": no targets: configure at least one pve or pbs target (either list may be empty, not both)",
	}},
	{"not_a_mapping", []string{
		":1: the file must be a mapping with the keys pve, pbs, routes and estates, not a list",
	}},
	{"pbs_names", []string{
		":2: pbs[0]: name is required for a pbs target: routes and repository labels refer to it",
		`:5: pbs[1].name: "pve" is reserved: routes use "to: pve" and "to: ignore"; choose another name`,
		`:9: pbs[2].name: "pbs 3" is not a valid name: use letters, digits, ".", "_" and "-" (it becomes a label value and part of repository names)`,
	}},
	{"pve_not_a_list", []string{
		`:2: pve: want a list of pve targets (each entry starting with "- "), got a mapping`,
	}},
	{"ranges", []string{
		":5: pve[0].max_concurrency: must be between 1 and 64, got 0",
		":6: pve[0].timeout: must be longer than 0s; leave it out to be bound by the scrape deadline only",
		":12: pbs[0].max_concurrency: must be between 1 and 64, got 65",
		`:13: pbs[0].timeout: want a duration like 30s, 5m or 36h, got "soon"`,
		`:15: pbs[0].offline.keep_last_knwon: unknown key; did you mean "keep_last_known"?`,
	}},
	{"routes_attribution", []string{
		`:17: routes[1]: contradicts the attribution on line 13: pbs1 datastore "store1" namespace "homelab" cannot belong to both "homelab" and "other"`,
		`:20: routes[1].cluster: "other" is not the name of a configured pve target (homelab)`,
		":21: routes[2]: duplicates the attribution on line 13",
		`:25: routes[3].pbs: "pbs9" is not a configured pbs target; want one of pbs1; did you mean "pbs1"?`,
		`:30: routes[4].namespace: namespace "elsewhere" is outside pbs1's namespaces allow-list ("homelab"), so it is never read`,
		`:33: routes[5].datastore: "store 1" is not a PBS datastore name`,
		`:34: routes[5].namespace: "/x" is not a namespace path: names of letters, digits, ".", "_" and "-" separated by "/", without a leading or trailing "/" ("" is the root)`,
	}},
	{"routes_no_pve", []string{
		":8: routes[0]: a storage route needs a pve target, and none is configured",
	}},
	{"routes_shape", []string{
		":13: routes[0]: mixes a storage route (storage, to or same_as) with a namespace attribution (pbs, datastore, namespace); write them as two routes",
		":17: routes[1]: a route needs either storage and to (how to read a PVE storage), storage and same_as (another cluster's storage it is one place with) or pbs and datastore (which cluster a PBS namespace belongs to)",
		":18: routes[2]: a storage route needs cluster and to (or same_as)",
		":19: routes[3]: a namespace attribution needs datastore",
		`:24: routes[4].tos: unknown key; did you mean "to"?`,
		":25: routes[5]: want a mapping (key: value lines), got a list",
	}},
	{"routes_same_as", []string{
		`:13: routes[0].same_as: "site-a" is not CLUSTER:STORAGE (the other cluster's name and its storage ID, e.g. site-b:nas)`,
		`:16: routes[1].same_as: "site-c:nas": "site-c" is not the name of a configured pve target (site-a, site-b); did you mean "site-a"?`,
		`:19: routes[2].same_as: "site-b:nas" names the route's own storage; name the other cluster's storage that is the same place`,
		":20: routes[3]: has both to and same_as; a storage route either says how to read the storage (to) or which storage it is one place with (same_as): write them as two routes",
		`:26: routes[4].same_as: "site-a:bad storage": "bad storage" is not a PVE storage ID`,
	}},
	{"routes_storage", []string{
		`:16: routes[1]: contradicts the route on line 13, which sends cluster "homelab", storage "backup-server" to "pbs1"`,
		`:19: routes[2]: duplicates the route on line 13 for cluster "homelab", storage "backup-server"`,
		`:24: routes[3].to: "pbs2" is not a configured pbs target; want one of pbs1, or "pve" or "ignore"; did you mean "pbs1"?`,
		`:25: routes[4].cluster: "homelab2" is not the name of a configured pve target (homelab); did you mean "homelab"?`,
		`:29: routes[5].storage: "bad storage" is not a PVE storage ID`,
	}},
	{"secret_both_and_neither", []string{
		":5: pve[0].token_secret_file: set either token_secret (line 4) or token_secret_file, not both",
		":6: pve[1]: token_secret_file (or token_secret) is required: the API token's secret",
	}},
	{"secret_files", []string{
		":4: pve[0].token_secret_file: cannot read testdata/secrets/missing.secret: no such file",
		":7: pve[1].token_secret_file: testdata/secrets/empty.secret is empty",
		":10: pve[2].token_secret_file: testdata/secrets/twolines.secret contains white space or control characters; it must hold only the token secret",
		":13: pve[3].token_secret_file: cannot read testdata/secrets: not a regular file",
		":16: pve[4].token_secret_file: is empty; give the path of a file holding the token secret",
	}},
	{"two_documents", []string{
		": the file holds more than one YAML document (---); put everything in one",
	}},
	{"unknown_key", []string{
		`:4: pve[0].tokn_id: unknown key; did you mean "token_id"?`,
	}},
	{"unknown_top_key", []string{
		`:5: route: unknown key; did you mean "routes"?`,
	}},
	{"urls_not_a_list", []string{
		":2: pve[0].urls: want a list, got a string; write urls: [https://pve1.example.org:8006]",
	}},
	{"wrong_types", []string{
		":2: pve[0].name: want a string, got a list",
		":6: pve[0].max_concurrency: want an integer, got a string",
		":7: pve[0].timeout: want a duration with a unit, like 30s, 5m or 36h, got the bare number 30",
		":9: pve[0].tls.insecure_skip_verify: want true or false, got a string",
	}},
	{"yaml_syntax", []string{
		":2: invalid YAML: did not find expected ',' or ']'",
	}},
}
