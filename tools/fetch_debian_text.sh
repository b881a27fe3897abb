#!/usr/bin/env bash
# tools/fetch_debian_text.sh — more English text for pre-training, from Debian packages (see
# ../shared/data/README.md, "More English text for pretraining"): installs them with apt and
# extracts plain text into one corpus file in `bertlab pretrain`'s raw format (one paragraph per
# line, a WikiText-style " = Title = " line before each document). The file is NOT committed.
#
#   tools/fetch_debian_text.sh [OUT]          (default OUT: runs/corpus/debian_text.raw)
#   SKIP_APT=1 tools/fetch_debian_text.sh     (the packages are already installed)
#
# Sources (documents are shuffled with a fixed seed, so that any prefix mixes all three):
#   python3.11-doc   the Python documentation's reST sources (html/_sources/*.rst.txt): one
#                    document per page. PSF licence.
#   linux-doc-6.1    the kernel documentation's reST sources: one document per page. GPL-2.0.
#   bible-kjv        the King James Bible (bible-kjv-text holds it; the `bible` program prints
#                    it): one document per book, one paragraph per verse. Public domain.
# reST markup is stripped by rule: headings become the title (first) or are dropped, directives
# other than descriptive ones (function, class, note, ...) are dropped with their bodies, as are
# literal blocks (after "::"), tables, and paragraphs that look like code; inline roles keep
# their text. What remains is prose, one paragraph a line.
set -euo pipefail

OUT=${1:-runs/corpus/debian_text.raw}
PACKAGES=(python3.11-doc linux-doc-6.1 bible-kjv bible-kjv-text)

if [[ "${SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "fetch_debian_text: installing ${missing[*]}" >&2
    SUDO=""
    [[ $(id -u) != 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

PY_SRC=/usr/share/doc/python3.11/html/_sources
LINUX_SRC=/usr/share/doc/linux-doc-6.1/html/_sources
for d in "$PY_SRC" "$LINUX_SRC"; do
  [[ -d "$d" ]] || { echo "fetch_debian_text: $d not found (is its package installed?)" >&2; exit 1; }
done
command -v bible >/dev/null || { echo "fetch_debian_text: the 'bible' program (package bible-kjv) is missing" >&2; exit 1; }
command -v python3 >/dev/null || { echo "fetch_debian_text: python3 is needed for the extraction" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
TMP="$OUT.tmp.$$"
trap 'rm -f "$TMP" "$TMP.bible"' EXIT
bible "gen1:1-rev22:21" > "$TMP.bible"

python3 - "$PY_SRC" "$LINUX_SRC" "$TMP.bible" "$TMP" <<'PYEOF'
import pathlib, random, re, sys

py_src, linux_src, bible_txt, out_path = sys.argv[1:5]

ADORN = re.compile(r'^([=\-~^"\'`#*+:._])\1{2,}\s*$')
BULLET = re.compile(r'^([-*+\u2022]|#\.|\(?\d+[.)]|\(?[a-z][.)])\s+')
DIRECTIVE = re.compile(r'^\.\.\s+([\w:.-]+)::\s*(.*)$')
KEEP_BODY = {
    'function', 'method', 'class', 'attribute', 'data', 'exception', 'decorator', 'decoratormethod',
    'classmethod', 'staticmethod', 'abstractmethod', 'coroutinefunction', 'coroutinemethod', 'module',
    'note', 'warning', 'important', 'tip', 'hint', 'caution', 'attention', 'danger', 'seealso',
    'versionadded', 'versionchanged', 'deprecated', 'deprecated-removed', 'describe', 'option',
    'cmdoption', 'envvar', 'opcode', 'pdbcommand', 'glossary', 'topic', 'sidebar', 'rubric', 'admonition',
    'c:function', 'c:macro', 'c:type', 'c:member', 'c:var', 'c:struct', 'c:union', 'c:enum',
    'c:enumerator', 'c:data', 'c:func', 'impl-detail', 'availability', 'audit-event',
}

def inline(s):
    s = re.sub(r':[\w:.-]+:`~?([^`<]*?)\s*<[^`>]*>`', r'\1', s)      # :role:`text <target>`
    s = re.sub(r':[\w:.-]+:`~?(?:[\w.]*\.)?([^`]*)`', r'\1', s)        # :role:`~a.b.c` -> c
    s = re.sub(r'`([^`<]*?)\s*<[^`>]*>`__?', r'\1', s)                  # `text <url>`_
    s = re.sub(r'``([^`]*)``', r'\1', s)
    s = re.sub(r'`([^`]*)`_{0,2}', r'\1', s)
    s = re.sub(r'\*\*([^*]+)\*\*', r'\1', s)
    s = re.sub(r'(?<![\w*])\*([^*\s][^*]*)\*', r'\1', s)
    s = re.sub(r'\[(#\w*|\d+|\*)\]_', '', s)                            # footnote references
    s = re.sub(r'\|(\w[\w\s-]*)\|', r'\1', s)                           # |substitution|
    s = re.sub(r'\s+', ' ', s).strip()
    return s

def prose(p):
    words = p.split()
    if len(words) < 4 or p.startswith(('>>>', '$ ', '#', '//', '/*')):
        return False
    if p.startswith('=') and p.endswith('='):
        return False
    letters = sum(c.isalpha() or c.isspace() for c in p)
    return letters >= 0.8 * len(p) and sum(c in '{};=<>()[]' for c in p) <= 0.03 * len(p)

def clean_rst(text):
    lines = text.splitlines()
    title, paras, para = None, [], []
    para_indent, skip_indent, literal_indent = 0, None, None

    def flush():
        nonlocal para, literal_indent
        if para:
            joined = ' '.join(l.strip() for l in para)
            if joined.endswith('::'):
                literal_indent = para_indent
                joined = joined[:-2].rstrip() + (':' if not joined.endswith(' ::') else '')
            if not any(ADORN.match(l.strip().replace(' ', '')) for l in para) and not any(l.strip().startswith(('+-', '+=', '|')) for l in para):
                t = inline(joined)
                if prose(t):
                    paras.append(t)
        para = []

    for raw in lines:
        line = raw.rstrip().replace('\t', '        ')
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                continue
            skip_indent = None
        if literal_indent is not None and stripped:
            if indent > literal_indent:
                skip_indent = literal_indent
                literal_indent = None
                continue
            literal_indent = None
        if not stripped:
            flush()
            continue
        if ADORN.match(stripped):
            if len(para) == 1:                      # the line above was a heading
                if title is None:
                    title = inline(para[0].strip())
                para = []
            elif para:                              # a simple table's border: drop the table
                para = []
                skip_indent = None
            continue
        m = DIRECTIVE.match(stripped)
        if m or stripped.startswith('.. '):
            flush()
            if not (m and m.group(1) in KEEP_BODY):
                skip_indent = indent
            continue
        if stripped.startswith(':') and re.match(r'^:[^:`]+:(\s|$)', stripped):
            if not para:                            # a field list (or a directive's option)
                rest = re.sub(r'^:[^:`]+:\s*', '', stripped)
                if not rest:
                    continue
                para_indent = indent
                para = [rest]
                continue
        if BULLET.match(stripped):
            flush()
            para_indent = indent
            para = [BULLET.sub('', stripped)]
            continue
        if not para:
            para_indent = indent
        para.append(stripped)
    flush()
    return title, paras

def heading_safe(t):
    t = re.sub(r'[=\s]+', ' ', t or '').strip()
    return t or 'untitled'

docs = []
for root, name in ((py_src, 'python3.11-doc'), (linux_src, 'linux-doc-6.1')):
    for f in sorted(pathlib.Path(root).rglob('*.txt')):
        try:
            text = f.read_text(encoding='utf-8', errors='replace')
        except OSError:
            continue
        title, paras = clean_rst(text)
        if sum(len(p) for p in paras) >= 200:
            docs.append((heading_safe(title or f.stem), paras))

book, verses = None, []
def end_book():
    if book and verses:
        docs.append((book, list(verses)))
for line in open(bible_txt, encoding='utf-8', errors='replace'):
    line = line.rstrip('\n')
    m = re.match(r'^(\d?\s?[A-Z][A-Za-z ]+?) (\d+)$', line)
    if m:
        if m.group(1) != book:
            end_book()
            book, verses = m.group(1), []
        continue
    v = re.match(r'^\s+\d+ (.*)$', line)
    if v:
        verses.append(v.group(1).strip())
    elif line.strip() and verses:
        verses[-1] += ' ' + line.strip()
end_book()

random.Random(20240601).shuffle(docs)
n_par = n_bytes = 0
with open(out_path, 'w', encoding='utf-8') as out:
    for title, paras in docs:
        out.write(' = %s = \n' % title)
        for p in paras:
            out.write(' %s \n' % p)
            n_par += 1
            n_bytes += len(p) + 3
print('fetch_debian_text: %d documents, %d paragraphs, %.1f MB' % (len(docs), n_par, n_bytes / 1e6), file=sys.stderr)
PYEOF

mv "$TMP" "$OUT"
echo "fetch_debian_text: wrote $OUT ($(wc -w < "$OUT") words)" >&2
