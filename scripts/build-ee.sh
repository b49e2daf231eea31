#!/usr/bin/env bash
# AWX/Tower execution environment: the collection artifact, the ansible-builder build context, optionally the image.
#   bash scripts/build-ee.sh                                   dist/eole-hapy.tar.gz and dist/ee-context/
#   bash scripts/build-ee.sh --image TAG [--base-image IMAGE]  ... then ansible-builder build (podman)
#   bash scripts/build-ee.sh --out DIR                         the same under DIR (a copy of execution-environment.yml
#                                                              beside DIR/dist/), leaving the checkout untouched
# The artifact is what galaxy.yml ships (build_ignore); execution-environment.yml installs the collection from it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$repo/.venv/bin:$PATH"
out=$repo image="" base_image=""
while (($#)); do
  case $1 in
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --image) image=$2; shift 2 ;;
    --base-image) base_image=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--image TAG [--base-image IMAGE]]" >&2; exit 2 ;;
  esac
done

version=$(python3 -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
mkdir -p "$out/dist"
[[ $out == "$repo" ]] || cp execution-environment.yml "$out/"
rm -f "$out/dist/eole-hapy-$version.tar.gz"
ansible-galaxy collection build --output-path "$out/dist" . >/dev/null
cp "$out/dist/eole-hapy-$version.tar.gz" "$out/dist/eole-hapy.tar.gz"
echo "artifact: $out/dist/eole-hapy-$version.tar.gz"
rm -rf "$out/dist/ee-context"
ansible-builder create -f "$out/execution-environment.yml" -c "$out/dist/ee-context" >/dev/null
echo "build context: $out/dist/ee-context"
if [[ -n $image ]]; then
  args=(-f "$out/execution-environment.yml" -c "$out/dist/ee-context" -t "$image" --container-runtime podman)
  [[ -n $base_image ]] && args+=(--build-arg "EE_BASE_IMAGE=$base_image")
  ansible-builder build "${args[@]}"
fi
