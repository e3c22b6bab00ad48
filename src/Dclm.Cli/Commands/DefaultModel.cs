namespace Dclm.Cli.Commands;

/// <summary>
/// Finds the built-in default model (models/default/model.gguf, trained by scripts/train-default-model.sh)
/// that commands use when no --model is given.
/// </summary>
internal static class DefaultModel
{
    /// <summary>The relative path of the default model inside the repository.</summary>
    public const string RelativePath = "models/default/model.gguf";

    /// <summary>
    /// $DCLM_DEFAULT_MODEL when set, else the first models/default/model.gguf found walking up from the
    /// program's directory, then from the working directory; null when there is none.
    /// </summary>
    public static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("DCLM_DEFAULT_MODEL") is { Length: > 0 } configured) return configured;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, RelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
