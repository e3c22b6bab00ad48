namespace Dclm.Data.Urls;

/// <summary>
/// The word lists DCLM-Baseline ships (Urls/Lists, MIT, from mlfoundations/dclm), embedded in this assembly and
/// named "builtin:strict", "builtin:hard", "builtin:soft" and "builtin:iana_tlds" in pipeline configs.
/// </summary>
public static class BuiltinLists
{
    private static readonly Dictionary<string, string> Resources = new(StringComparer.Ordinal)
    {
        ["builtin:strict"] = "refinedweb_banned_words_strict_reverse_engineered.txt",
        ["builtin:hard"] = "refinedweb_banned_words_hard_reverse_engineered.txt",
        ["builtin:soft"] = "refinedweb_banned_words_soft_reverse_engineered.txt",
        ["builtin:iana_tlds"] = "iana_tlds.txt",
    };

    /// <summary>True for a "builtin:" name this assembly carries.</summary>
    public static bool IsBuiltin(string name) => Resources.ContainsKey(name);

    /// <summary>The names of the built-in lists.</summary>
    public static IEnumerable<string> Names => Resources.Keys;

    /// <summary>
    /// The lines of a built-in list or of a file, as Python's <c>read().splitlines()</c> returns them (blank lines
    /// dropped: they would ban everything).
    /// </summary>
    public static List<string> Read(string nameOrPath)
    {
        string text;
        if (Resources.TryGetValue(nameOrPath, out var resource))
        {
            using var stream = typeof(BuiltinLists).Assembly.GetManifestResourceStream("Dclm.Data.Urls." + resource)
                               ?? throw new InvalidOperationException($"the embedded list {resource} is missing");
            text = new StreamReader(stream).ReadToEnd();
        }
        else if (nameOrPath.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"unknown built-in list '{nameOrPath}' (known: {string.Join(", ", Resources.Keys)})");
        else if (!File.Exists(nameOrPath)) throw new FileNotFoundException($"{nameOrPath}: list file not found", nameOrPath);
        else text = File.ReadAllText(nameOrPath);
        return SplitLines(text).Where(l => l.Length > 0).ToList();
    }

    /// <summary>Python's <c>str.splitlines()</c>.</summary>
    public static IEnumerable<string> SplitLines(string text)
    {
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                yield return text[start..i];
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                start = i + 1;
            }
        }
        if (start < text.Length) yield return text[start..];
    }
}
