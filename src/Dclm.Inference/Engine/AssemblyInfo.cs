using System.Runtime.CompilerServices;

// The engine's tests drive the scheduler and prefix cache directly with made-up block ledgers, and read the engine thread's allocations.
[assembly: InternalsVisibleTo("Dclm.Inference.Tests")]
// The server's queue-limit test holds the engine at a known step (InferenceEngine.BeforeStep) while it sends a request.
[assembly: InternalsVisibleTo("Dclm.Server.Tests")]
