// Package emulator emulates Proxmox VE clusters and Proxmox Backup
// Servers over real HTTPS, for tests, benchmarks and the exporter's --demo.
//
// It is our stand-in for reality, so it follows the real products
// (the captured API answers in ../testdata/samples), not what our client
// expects; it shares no decoding code with package proxmox, and a shape test
// compares its answers with the captured samples.
//
// One declarative Model describes the estate; Start serves it:
//
//   - every PVE node has its own TLS listener (certificate signed by a
//     per-cluster CA, like pve-root-ca); /nodes/{other}/... is answered by
//     that node, or 595 when it is unreachable; /cluster/* works on any node;
//   - every PBS has its own listener and self-signed certificate, so
//     fingerprints differ per PBS;
//   - views are consistent: a PBS snapshot appears in the PBS API and in
//     every PVE pbs storage on its datastore and namespace (no child
//     namespaces, no host backups, vm/ct with numeric ids only); a shared
//     storage lists the same files on every node, a node-local one only its
//     node's; a storage restricted with nodes exists only there;
//   - authentication and errors are those of the products: PVEAPIToken split
//     at the last '=', PBSAPIToken at the first ':'; PVE errors are JSON with
//     the message as reason phrase, PBS errors plain text;
//   - shapes follow each target's version: PVE 9 drops starttime and dow
//     from /cluster/backup, only PVE 8.4 and later load a backup
//     provider's storage (Storage.BackupProvider), only PBS 4 moves groups
//     and namespaces (PBSServer.MoveGroup, MoveNamespace);
//   - faults (SetFault) switch real failure modes on and off at run time;
//   - every request is recorded (Requests) and counted (CountRequests).
//
// Homelab builds the demo scenario, Generate large estates for benchmarks.
//
// Deviations from the real products worth knowing: file names and log
// times use UTC instead of the node's local time zone; task ids (pid,
// pstart) are synthetic; PVE's ~3 s delay on authentication failures is off
// unless Model.AuthFailureDelay is set.
package emulator
