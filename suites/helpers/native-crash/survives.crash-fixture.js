// Runs after the crashing file: its result must still be reported.
test('a suite after the crash still runs and is reported', () => {
  expect(1 + 1).toBe(2);
});
