#!/usr/bin/env bash
# The execution environment built for real on this test bed (no container registry, no Galaxy server here):
# execution-environment.yml's Python side, on the local Debian image of scripts/build-image.sh (its system Python has
# no ensurepip: the EE's Python is a venv of it), with the roles' collections packed from this venv's `ansible`
# package and eole.hapy from its artifact; pip reaches PyPI through this machine's CA bundle. Then a smoke check in
# the image. Opt-in (minutes, network): not part of scripts/test.sh.
#   bash scripts/build-ee-testbed.sh [IMAGE]        default localhost/hapy-ee:testbed
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$repo/.venv/bin:$PATH"
image=${1:-localhost/hapy-ee:testbed}
out=$repo/.cache/ee-testbed
rm -rf "$out"; mkdir -p "$out/dist" "$out/certs"
bash scripts/build-ee.sh --out "$out/artifact" >/dev/null
cp "$out/artifact/dist/eole-hapy.tar.gz" "$out/dist/"
cp /etc/ssl/certs/ca-certificates.crt "$out/certs/"
python3 - "$out/dist" <<'PY'
"""Each collection the roles need, as an artifact made from its installed copy (FILES.json kept to the files
present: the `ansible` package leaves some out)."""
import hashlib, io, json, sys, tarfile
from pathlib import Path
import yaml
installed = Path(yaml.__file__).parents[1] / "ansible_collections"
for name in yaml.safe_load(Path("galaxy.yml").read_text())["dependencies"]:
    src = installed.joinpath(*name.split("."))
    files = json.loads((src / "FILES.json").read_text())
    files["files"] = [f for f in files["files"] if f["name"] == "." or (src / f["name"]).exists()]
    files_json = json.dumps(files, indent=4).encode()
    manifest = json.loads((src / "MANIFEST.json").read_text())
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    with tarfile.open(Path(sys.argv[1]) / f"{name.replace('.', '-')}.tar.gz", "w:gz") as tar:
        for member, data in (("MANIFEST.json", json.dumps(manifest, indent=4).encode()), ("FILES.json", files_json)):
            info = tarfile.TarInfo(member)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for entry in files["files"][1:]:
            tar.add(src / entry["name"], arcname=entry["name"], recursive=False)
PY
python3 - "$out" <<'PY'
"""The test-bed variant of execution-environment.yml."""
import sys
from pathlib import Path
import yaml
out = Path(sys.argv[1])
ee = yaml.safe_load(Path("execution-environment.yml").read_text())
ee["images"]["base_image"]["name"] = "localhost/hapy-systemd:bookworm"
ee["options"] = {"package_manager_path": "/usr/bin/apt-get"}
ee["dependencies"]["galaxy"]["collections"] = [{"name": f"collections/{p.name}", "type": "file"}
                                               for p in sorted((out / "dist").glob("*.tar.gz"))]
ee["dependencies"]["system"] = ["openssh-client [platform:dpkg]", "rsync"]
ee["additional_build_files"] = [{"src": "dist", "dest": "collections"}, {"src": "certs", "dest": "certs"}]
ee["additional_build_steps"]["prepend_base"] = [
    "COPY _build/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
    "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv && python3 -m venv /opt/ee",
    "ENV PATH=/opt/ee/bin:$PATH"]
(out / "execution-environment.yml").write_text(yaml.safe_dump(ee, sort_keys=False))
PY
ansible-builder build -f "$out/execution-environment.yml" -c "$out/context" --container-runtime podman -t "$image" \
  --build-arg PYCMD=/opt/ee/bin/python3
podman run --rm "$image" ansible-galaxy collection list 2>/dev/null | grep -E '^(eole|ansible\.posix|community)'
podman run --rm "$image" ansible-doc -t inventory eole.hapy.academy 2>/dev/null | head -1
