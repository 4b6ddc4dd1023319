// The lines every container's /etc/hosts starts with (Docker's), shared by the runtime (a
// container without a network sandbox) and the network facility (one with).
export const BASE_HOSTS: readonly string[] = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];
