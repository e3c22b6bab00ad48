namespace Dclm.Fuzz;

/// <summary>
/// One fuzzed input format: it makes mutated cases from its seeds and runs the code under test on each.
/// <see cref="Run"/> returns true when the input was accepted, false when it was refused the way the project
/// promises (a one-line error of the expected type naming the file or field); any exception it lets escape
/// is a finding.
/// </summary>
internal abstract class FuzzTarget : IDisposable
{
    /// <summary>Short name used on the command line and in the report ("gguf", "http", …).</summary>
    public abstract string Name { get; }

    /// <summary>The exception types a clean refusal may use, for the report.</summary>
    public abstract string ExpectedErrors { get; }

    /// <summary>A mutated case, built only from <paramref name="random"/> and the seeds (so a case number reproduces it).</summary>
    public abstract byte[] NextCase(Random random);

    /// <summary>Runs the code under test on <paramref name="input"/>: true when accepted, false when cleanly refused.</summary>
    public abstract bool Run(byte[] input, CancellationToken cancellation);

    public virtual void Dispose()
    {
    }

    /// <summary>Checks a refusal's message is what users are promised: one line, naming <paramref name="subject"/>.</summary>
    protected static void CheckMessage(Exception error, string? subject)
    {
        if (error.Message.Contains('\n') || error.Message.Contains('\r'))
            throw new FuzzFinding($"{error.GetType().Name} message has a line break: {error.Message}");
        if (subject is not null && !error.Message.Contains(subject, StringComparison.Ordinal))
            throw new FuzzFinding($"{error.GetType().Name} message does not name {subject}: {error.Message}");
    }
}

/// <summary>A refusal that broke a promise (a message without the file name, a 4xx without a JSON body, a 5xx).</summary>
internal sealed class FuzzFinding(string message) : Exception(message);

/// <summary>A scratch folder for cases that must be files, deleted on dispose.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder(string name)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dclm-fuzz-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
