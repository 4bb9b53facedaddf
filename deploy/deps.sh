#!/usr/bin/env bash
# deploy/deps.sh: installs the Debian 12 packages innsync needs to build,
# run and test, when any is missing. Sourced by quickstart.sh and test.sh.
innsync_install_deps() {
	local packages=(build-essential cmake pkg-config libzmq3-dev libsodium-dev
		libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev libssl-dev
		libjansson-dev libcmocka-dev python3 python3-zmq python3-cryptography openssl sqlite3)
	local missing=()
	for package in "${packages[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
			missing+=("$package")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	echo "installing: ${missing[*]}"
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
