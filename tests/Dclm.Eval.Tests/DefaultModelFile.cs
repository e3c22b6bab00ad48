namespace Dclm.Eval.Tests;

/// <summary>The repository's built-in default model (models/default/model.gguf), found above the test's directory.</summary>
internal static class DefaultModelFile
{
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = System.IO.Path.Combine(directory.FullName, "models", "default", "model.gguf");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("models/default/model.gguf not found above " + AppContext.BaseDirectory);
    }
}
