#!/usr/bin/env bash
# Installs the compilers and libraries the multilingual HumanEval runners use (humaneval/languages/).
# Idempotent: a second run checks what is there and installs nothing. Run as root (CI and developers are).
# Debian's toolchains only: the runners call /usr/bin/{g++,go,rustc,cargo,javac,java,node} and read
# Debian's library sources (/usr/share/gocode, /usr/share/cargo/registry) offline inside the sandbox.
# JDK 17 and node 20 come with the machine image; they are checked here, not installed.
set -euo pipefail

APT_PACKAGES=(g++ libssl-dev libboost-dev golang-go golang-github-stretchr-testify-dev rustc cargo
              librust-rand-dev librust-regex-dev librust-md5-dev)
NPM_PACKAGES=(typescript js-md5)  # typescript: HumanEval-TS (native tsc 7); js-md5: JavaScript/162 require()s it

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup_toolchains: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

for package in "${NPM_PACKAGES[@]}"; do
    if ! npm ls -g --depth=0 "$package" >/dev/null 2>&1; then
        echo "setup_toolchains: npm install -g $package"
        npm install -g --no-audit --no-fund -q "$package"
    fi
done

status=0
for tool in /usr/bin/gcc /usr/bin/g++ /usr/bin/go /usr/bin/rustc /usr/bin/cargo /usr/bin/javac /usr/bin/java /usr/bin/node; do
    [[ -x $tool ]] || { echo "setup_toolchains: $tool missing after setup" >&2; status=1; }
done
command -v tsc >/dev/null || { echo "setup_toolchains: tsc missing after setup" >&2; status=1; }
exit $status
