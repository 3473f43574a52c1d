#!/usr/bin/env bash
# Gather a release's files from a finished build into OUTDIR:
#   scripts/ci/release-bundle.sh TAG IMAGE_REF OUTDIR      (run from the project root)
# OUTDIR gets databook-TAG.pdf, databook-TAG-site.tar.gz, databook-TAG-tex.tar.gz,
# databook-TAG-provenance.tar.gz, CITATION.cff, image-digest.txt, SHA256SUMS and
# RELEASE_NOTES.md. Fails if any input is missing.
set -euo pipefail
tag=$1
image=$2
out=$3
for need in _build/exports/databook.pdf _build/html/index.html _build/exports/tex CITATION.cff; do
  [ -e "$need" ] || { echo "release-bundle: $need is missing (did the build run?)" >&2; exit 1; }
done
compgen -G "figures/*.provenance.json" >/dev/null \
  || { echo "release-bundle: no figures/*.provenance.json" >&2; exit 1; }
case "$image" in
  *@sha256:*) ;;
  *) echo "release-bundle: image reference $image has no @sha256: digest" >&2; exit 1 ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
cp _build/exports/databook.pdf "$out/databook-$tag.pdf"
tar -czf "$out/databook-$tag-site.tar.gz" -C _build html
tar -czf "$out/databook-$tag-tex.tar.gz" -C _build/exports tex
(cd figures && printf '%s\n' ./*.provenance.json) \
  | tar -czf "$out/databook-$tag-provenance.tar.gz" -C figures -T -
cp CITATION.cff "$out/CITATION.cff"
echo "$image" > "$out/image-digest.txt"
cat > "$out/RELEASE_NOTES.md" <<NOTES
databook $tag, built in the container image \`$image\`.

- \`databook-$tag.pdf\`: the article; \`databook-$tag-site.tar.gz\`: the web site
- \`databook-$tag-tex.tar.gz\`: the LaTeX source of the PDF
- \`databook-$tag-provenance.tar.gz\`: one provenance record per figure
- \`image-digest.txt\`: the image to rebuild it in: \`docker run --rm $image make article\`
- How to cite: \`CITATION.cff\` (the DOI is minted by Zenodo for this release)
NOTES
(cd "$out" && sha256sum -- databook-* CITATION.cff image-digest.txt > SHA256SUMS)
ls "$out"
