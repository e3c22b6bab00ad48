using System.Runtime.CompilerServices;

// The engine's tests drive the scheduler and prefix cache directly with made-up block ledgers, and read the engine thread's allocations.
[assembly: InternalsVisibleTo("Dclm.Inference.Tests")]
