"""The README's code blocks, so that the documentation cannot rot.

  readme_blocks.py python README
      runs every ```python block, each as a script of its own in a fresh directory (the blocks
      `import eiprop`: the caller's environment says which package and library);
  readme_blocks.py cpp README --out FILE
      writes every ```cpp block into one C++ program: the blocks' #include lines first, then each
      block as the body of a function that main() calls in order (built and run by the packaging
      test as a find_package(eiprop) consumer).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(readme, language):
    found, current, inside = [], [], None
    with open(readme, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            fence = FENCE.match(line.rstrip("\n"))
            if inside is None and fence:
                inside, start, current = fence.group(1), number, []
            elif inside is not None and line.rstrip("\n") == "```":
                if inside == language:
                    found.append((start, "".join(current)))
                inside = None
            elif inside is not None:
                current.append(line)
    return found


def run_python(readme):
    """Each block as a script of its own (TorchScript reads a scripted class's source file)."""
    found = blocks(readme, "python")
    if not found:
        sys.exit(f"{readme}: no python blocks")
    with tempfile.TemporaryDirectory() as directory:
        for start, code in found:
            script = os.path.join(directory, f"readme_line_{start}.py")
            with open(script, "w", encoding="utf-8") as out:
                out.write(code)
            print(f"README line {start}: running the python block", flush=True)
            if subprocess.run([sys.executable, script], cwd=directory).returncode != 0:
                sys.exit(f"README line {start}: the python block failed")
    print(f"readme: {len(found)} python blocks ran")


def write_cpp(readme, out):
    found = blocks(readme, "cpp")
    if not found:
        sys.exit(f"{readme}: no cpp blocks")
    includes, functions = [], []
    for index, (start, code) in enumerate(found):
        body = []
        for line in code.splitlines():
            if line.startswith("#include"):
                if line not in includes:
                    includes.append(line)
            else:
                body.append("  " + line if line else "")
        functions.append(f"// README line {start}\nstatic void block_{index}() {{\n"
                         + "\n".join(body) + "\n}\n")
    calls = "\n".join(f'  std::cout << "README block {i}" << std::endl;\n  block_{i}();'
                      for i in range(len(found)))
    with open(out, "w", encoding="utf-8") as program:
        program.write("// Generated from the README's ```cpp blocks by "
                      "tests/readme/readme_blocks.py.\n")
        program.write("\n".join(includes) + "\n#include <iostream>\n\n")
        program.write("\n".join(functions))
        program.write(f"\nint main() {{\n{calls}\n  std::cout << \"readme: {len(found)} cpp blocks "
                      "ran\" << std::endl;\n  return 0;\n}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", choices=["python", "cpp"])
    parser.add_argument("readme")
    parser.add_argument("--out", help="the C++ file to write (cpp)")
    arguments = parser.parse_args()
    if arguments.language == "python":
        run_python(arguments.readme)
    else:
        write_cpp(arguments.readme, arguments.out)


if __name__ == "__main__":
    main()
