#!/usr/bin/env bash
# Assemble a Hugging Face Docker Space repository for the SatyaMark worker.
#
#   deploy/hf-space/build_space.sh /path/to/space-checkout
#
# Copies the installable project (pyproject.toml and the Python packages) and the Space
# files (Dockerfile, README.md with the Space front-matter, space_entry.py) into the
# given directory, typically a clone of https://huggingface.co/spaces/<you>/<space>.
# Then: cd /path/to/space-checkout && git add -A && git commit -m "worker" && git push
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="${1:?usage: build_space.sh DEST_DIR}"
mkdir -p "$dest"

# Packages named in pyproject.toml's [tool.setuptools.packages.find].
packages=(shared worker gateway auth_service ratelimit_service backend_service
          ai_service result_receiver ws_service satyamark)

cp "$root/pyproject.toml" "$dest/"
for pkg in "${packages[@]}"; do
    if [ -d "$root/$pkg" ]; then
        rm -rf "${dest:?}/$pkg"
        cp -r "$root/$pkg" "$dest/$pkg"
    fi
done
cp "$here/Dockerfile" "$here/README.md" "$here/space_entry.py" "$dest/"
cat > "$dest/.dockerignore" <<'IGN'
.git
**/__pycache__
**/*.pyc
IGN
find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
echo "Space repository assembled in $dest"
