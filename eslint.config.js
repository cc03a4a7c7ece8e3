// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // bin/ holds a plain-JavaScript launcher outside the TypeScript project.
  { ignores: ["dist/", "node_modules/", "eslint.config.js", "bin/", "bench/.build/", "bench/profiles/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      // `const { status: _status, ...rest } = object` is how a field is left out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true, varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // Children are plain JSON in the wire format. client-node's model classes serve only as
      // structural types for them; nothing here relies on their prototypes or serializers.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // chai-free assertions via node:assert read naturally with non-null narrowing in tests.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
