#!/usr/bin/env bash
# A local certificate authority and the certificates the cluster's mTLS uses (openssl only):
#   ca.pem / ca.key          the CA that signs both and that each side trusts
#   server.pem / server.key  the Temporal services (frontend and internode) and the UI server's client side
#   client.pem / client.key  workers, the CLI and the UI server connecting to the frontend
# Usage: scripts/cluster/make-certs.sh DIR [extra DNS names...]   (keeps existing files)
# The server certificate names localhost, 127.0.0.1 and the docker-compose service names.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR [DNS names...]}
shift || true
days=${CELLOS_CERT_DAYS:-825}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

if [[ ! -f ca.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days "$days" \
    -subj "/CN=cell_OS local CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# leaf NAME CN EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
leaf() {
  local name=$1 cn=$2 eku=$3 san=$4
  [[ -f $name.pem ]] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "/CN=$cn" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$eku" "$san" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

san="DNS:localhost,IP:127.0.0.1,DNS:temporal,DNS:temporal-frontend,DNS:temporal-history,DNS:temporal-matching,DNS:temporal-worker"
for extra in "$@"; do san="$san,DNS:$extra"; done
# Internode connections use the server certificate on both ends, hence clientAuth too.
leaf server "temporal" "serverAuth,clientAuth" "$san"
leaf client "cellos-client" "clientAuth" "DNS:cellos-client"
chmod 600 ./*.key
chmod 644 ./*.pem
echo "certificates in $dir: ca.pem server.pem client.pem (keys *.key, owner-only)"
