// The Node.js function the container smoke test runs (`node handler.js PARAMETERS...`, handler.js being the
// "main" of package.json, not the default index.js): prints the uid it runs as and its arguments, and its Node.js
// version on stderr. No dependencies: nothing to install.
console.log(`uid=${process.getuid()}`);
console.log(`args=${process.argv.slice(2).join("|")}`);
console.error(`node ${process.version}`);
