namespace Dclm.Formats;

/// <summary>
/// A model file (weights, tokenizer, index, config) is missing, truncated or malformed.
/// The message always reads "&lt;path&gt;: &lt;what is wrong&gt;" so that one line tells the user
/// which file to fix and why.
/// </summary>
public class ModelFileException : Exception
{
    /// <summary>The file the problem was found in, as the caller named it.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }

    /// <summary>Creates the exception for <paramref name="filePath"/> with a one-line <paramref name="problem"/>.</summary>
    public ModelFileException(string filePath, string problem)
        : base(OneLine($"{filePath}: {problem}"))
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>Creates the exception and keeps the lower-level cause (an IO or JSON error).</summary>
    public ModelFileException(string filePath, string problem, Exception innerException)
        : base(OneLine($"{filePath}: {problem}"), innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    // A message is one line even when a name taken from a corrupt file holds line breaks.
    private static string OneLine(string message) =>
        message.AsSpan().IndexOfAny('\r', '\n') < 0 ? message : message.Replace("\r", "\\r").Replace("\n", "\\n");
}
