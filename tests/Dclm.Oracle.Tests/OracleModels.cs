using Dclm.Tensors;

namespace Dclm.Oracle.Tests;

/// <summary>
/// The files every oracle test shares, made once in a temp directory: one random Llama (fixed seed) as an
/// F32 GGUF, a Q8_0 GGUF and a Hugging Face directory, plus a 256-token prompt that llama.cpp tokenized
/// from real text. Files are written on first use and deleted with the fixture.
/// </summary>
public sealed class OracleModels : IDisposable
{
    public const int PromptLength = 256;

    // Prose, code, digits and non-Latin text, so the prompt touches many kinds of tokens.
    private const string PromptText =
        "The quick brown fox jumps over the lazy dog. In July 1969, Apollo 11 landed on the Moon, and Neil " +
        "Armstrong said: \"That's one small step for man, one giant leap for mankind.\" Rivers carve valleys " +
        "over millions of years; glaciers leave lakes behind when they retreat. " +
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n" +
        "Prices rose 3.7% in 2023, while the median income was $74,580. Ünïcödé, naïve café, 日本語のテキスト, " +
        "Ελληνικά, русский язык, and emoji 🙂 all appear on the web. The committee met on Tuesday to review " +
        "the budget, approve the minutes, and discuss whether the library should open earlier on weekends. ";

    private readonly Lazy<string> f32Gguf, q8Gguf, huggingFace;
    private readonly Lazy<int[]> prompt;

    public OracleModels()
    {
        Directory = Path.Combine(Path.GetTempPath(), "dclm-oracle-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Model = RandomLlama.Create(new LlamaShape(), seed: 20240601);
        f32Gguf = new(() => WriteGguf("random-llama-f32.gguf", GgmlType.F32));
        q8Gguf = new(() => WriteGguf("random-llama-q8_0.gguf", GgmlType.Q8_0));
        huggingFace = new(() =>
        {
            string directory = Path.Combine(Directory, "random-llama-hf");
            LlamaFiles.WriteHuggingFace(Model, directory);
            return directory;
        });
        prompt = new(TokenizePrompt);
    }

    public string Directory { get; }
    public RandomLlama Model { get; }
    public string F32Gguf => f32Gguf.Value;
    public string Q8Gguf => q8Gguf.Value;
    public string HuggingFaceDirectory => huggingFace.Value;

    /// <summary><see cref="PromptLength"/> token ids of real text, as llama.cpp tokenizes it (BOS first).</summary>
    public int[] Prompt => prompt.Value;

    public string PathOf(string name) => Path.Combine(Directory, name);

    private string WriteGguf(string name, GgmlType type)
    {
        string path = PathOf(name);
        LlamaFiles.WriteGguf(Model, path, type);
        return path;
    }

    private int[] TokenizePrompt()
    {
        using var llama = LlamaCppModel.Load(F32Gguf);
        var ids = new List<int> { 1 };
        int[] text = llama.Tokenize(PromptText);
        while (ids.Count < PromptLength) ids.AddRange(text);
        return ids.Take(PromptLength).ToArray();
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>All oracle tests share one set of model files and run one at a time (llama.cpp and our pool each want both cores).</summary>
[CollectionDefinition(Name)]
public sealed class OracleCollection : ICollectionFixture<OracleModels>
{
    public const string Name = "llama.cpp oracle";
}
