"""A realistic project tree on disk (secrets, keys, build outputs, node_modules, a git history)
for the real-files policy cases and the engine benchmark. Builds files; judges nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# Files the seed policy protects, relative to the project root.
PROTECTED = (
    ".env",
    ".env.example",
    "config/secrets.json",
    "certs/server.key",
    "certs/server.pem",
    "dist/.env.production",
    "tests/fixtures/.env.test",
    "node_modules/https-agent/test/snakeoil.key",
    "deploy/aws.pem",
)
BULK_ENTRIES = 20_500  # more than the walk budget, in a sibling of the project

_GITIGNORE = """\
# dependencies and outputs
node_modules/
build/
dist/
out/
coverage/
*.log
# secrets
.env
.env.*
!.env.example
config/secrets.json
certs/
"""

_FILES: dict[str, str] = {
    ".gitignore": _GITIGNORE,
    ".env": "DATABASE_URL=postgres://app:hunter2@db/app\nSTRIPE_KEY=sk_live_0000\n",
    ".env.example": "DATABASE_URL=postgres://user:password@localhost/app\n",
    "README.md": "# shop\n\nRun `npm test`. FIXME: document deploys.\n",
    "package.json": '{"name": "shop", "scripts": {"test": "jest", "build": "tsc"}}\n',
    "package-lock.json": '{"name": "shop", "lockfileVersion": 3}\n',
    "tsconfig.json": '{"compilerOptions": {"outDir": "build"}}\n',
    "config/app.yaml": "port: 8080\nlog_level: info\n",
    "config/database.yml": "host: localhost\npassword_env: DATABASE_PASSWORD\n",
    "config/secrets.json": '{"api_key": "abc123", "password": "hunter2"}\n',
    "certs/server.key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    "certs/server.pem": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n",
    "deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH KEY-----\n",
    "deploy/id_rsa.pub": "ssh-ed25519 AAAA deploy@shop\n",
    "deploy/deploy.sh": "#!/bin/sh\nrsync -a build/ web:/srv/shop/\n",
    "src/index.ts": "import { app } from './app';\napp.listen(8080); // FIXME port\n",
    "src/app.ts": "export const app = { listen(port: number) { return port; } };\n",
    "src/config.ts": "export const password = process.env.DATABASE_PASSWORD;\n",
    "src/api/users.ts": "export function users() { return []; } // TODO paginate\n",
    "src/api/orders.ts": "export function orders() { return []; }\n",
    "src/models/user.ts": "export interface User { id: number; password_hash: string }\n",
    "src/.cache/state.json": '{"warm": true}\n',
    "lib/format.js": "module.exports = (s) => s.trim(); // FIXME unicode\n",
    "lib/money.js": "module.exports = (c) => (c / 100).toFixed(2);\n",
    "lib/util/retry.js": "module.exports = async (f) => f();\n",
    "public/index.html": "<!doctype html><title>shop</title>\n",
    "public/css/site.css": "body { margin: 0 }\n",
    "public/img/logo.svg": "<svg/>\n",
    "tests/app.test.ts": "test('app', () => expect(1).toBe(1));\n",
    "tests/fixtures/users.json": '[{"id": 1}]\n',
    "tests/fixtures/.env.test": "DATABASE_URL=postgres://test@localhost/test\n",
    "build/index.js": "console.log('built');\n",
    "build/index.js.map": "{}\n",
    "dist/bundle.js": "console.log('bundle');\n",
    "dist/.env.production": "STRIPE_KEY=sk_live_prod\n",
    "out/report.html": "<p>report</p>\n",
    "out/data.csv": "id,total\n1,10\n",
    "coverage/lcov.info": "TN:\n",
    "logs/app.log": "started\n",
    "docs/deploy.md": "# Deploying\n\nSecrets live in the vault, never in git.\n",
    "scripts/seed.sql": "INSERT INTO users VALUES (1);\n",
}
_UNTRACKED = {
    "src/new_feature.ts": "export const feature = true;\n",
    "notes.txt": "ask about the password rotation\n",
    "deploy/aws.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
}


def _node_modules(root: Path) -> None:
    for number in range(60):
        package = root / "node_modules" / f"pkg-{number:02d}"
        for relative, text in {
            "package.json": f'{{"name": "pkg-{number:02d}", "version": "1.0.{number}"}}\n',
            "index.js": "module.exports = require('./lib/main');\n",
            "lib/main.js": "module.exports = () => 42;\n",
            "lib/helpers.js": "exports.noop = () => {};\n",
            "README.md": "# package\n",
        }.items():
            path = package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    agent = root / "node_modules" / "https-agent"
    (agent / "test").mkdir(parents=True)
    (agent / "index.js").write_text("module.exports = {};\n")
    (agent / "test" / "snakeoil.key").write_text("-----BEGIN PRIVATE KEY-----\nfake\n")


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def build_project_tree(base: Path, bulk: bool = True) -> Path:
    """Creates `base/shop` (the project, a git work tree) and `base/bulk` (too big to walk)."""
    root = base / "shop"
    for relative, text in _FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _node_modules(root)
    (root / "share").mkdir()
    (root / "share" / "readme.txt").write_text("shared notes\n")
    (root / "share" / "env.txt").symlink_to("../.env")  # a link that reads as the secret
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial import")
    (root / "src" / "app.ts").write_text("export const app = { listen: (p: number) => p };\n")
    git(root, "commit", "-q", "-am", "simplify app")
    for relative, text in _UNTRACKED.items():
        (root / relative).write_text(text)
    for number in range(BULK_ENTRIES // 500 if bulk else 0):
        chunk = base / "bulk" / f"part-{number:02d}"
        chunk.mkdir(parents=True)
        for item in range(500):
            (chunk / f"row-{item:03d}.csv").touch()
    return root
