// A runtime stand-in that dies of a native crash in the process that loads it (as TensorFlow 2.21's
// oneDNN convolution does on AMD Zen 5): suites/native-crash.test.ts runs it under the project's Jest
// configuration.
test('loads a runtime that dies with SIGFPE', () => {
  process.kill(process.pid, 'SIGFPE');
});
