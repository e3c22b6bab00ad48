namespace Dclm.Benchmarks;

/// <summary>An engine the benchmark can time: prompt processing and one-token-at-a-time generation from an empty context.</summary>
public interface IBenchTarget : IDisposable
{
    /// <summary>Short name for tables, e.g. "dclmsharp" or "llama.cpp".</summary>
    string Name { get; }

    /// <summary>Processes <paramref name="tokens"/> as one prompt from position 0 in a fresh context.</summary>
    void ProcessPrompt(int[] tokens);

    /// <summary>Generates <paramref name="count"/> tokens one decode step at a time from a fresh context, starting from <paramref name="first"/>.</summary>
    void Generate(int first, int count);
}
