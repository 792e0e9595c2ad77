#!/usr/bin/env python3
# Prints types under Sources/ with more than 15 stored properties (instance `let`/`var` declared at the type's
# top level without a getter block; a one-line getter `{ expr }` counts as a getter). Approximate: reads
# indentation, not Swift's grammar.
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'Sources'
decl = re.compile(r'^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|open|final|nonisolated|package)(?:\(set\))?\s+)*(class|struct|actor|enum)\s+(\w+)')
prop = re.compile(r'^(\s*)(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|package|weak|unowned|nonisolated|lazy)(?:\(set\))?\s+)*(let|var)\s+\w+')
for dirpath, _, files in os.walk(root):
    for f in files:
        if not f.endswith('.swift'): continue
        path = os.path.join(dirpath, f)
        stack = []
        for line in open(path, encoding='utf-8'):
            m = decl.match(line)
            if m and line.rstrip().endswith('{'):
                stack.append([m.group(3), len(m.group(1)), 0])
                continue
            if stack and line.strip() == '}' and len(line) - len(line.lstrip()) == stack[-1][1]:
                name, _, count = stack.pop()
                if count > 15: print(f'{count:3d} stored properties: {name} ({path})')
                continue
            p = prop.match(line)
            if p and stack and len(p.group(1)) == stack[-1][1] + 4 and 'static' not in line.split('let')[0].split('var')[0]:
                rest = line.split('//')[0].rstrip()
                # A getter block opens before any `=` (`var x: T {` or `var x: T { expr }` on one line);
                # `didSet`/`willSet` blocks belong to stored properties.
                head = rest.split('=')[0]
                computed = '{' in head and not re.search(r'\{\s*(didSet|willSet)\b', rest)
                if not computed: stack[-1][2] += 1
