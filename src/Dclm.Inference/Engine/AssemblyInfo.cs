using System.Runtime.CompilerServices;

// The server's tests drive the scheduler and prefix cache directly with made-up block ledgers.
[assembly: InternalsVisibleTo("Dclm.Server.Tests")]
