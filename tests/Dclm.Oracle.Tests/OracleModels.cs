using Dclm.Inference;
using Dclm.TestSupport;
using Dclm.Tensors;

namespace Dclm.Oracle.Tests;

/// <summary>
/// The files every oracle test shares, made once in a temp directory and deleted with the fixture:
/// a random Llama with a purely random output head (<see cref="Flat"/>, the most sensitive to any numeric
/// slip) as an F32 GGUF and a Hugging Face directory, and a more decisive one (<see cref="Decisive"/>, see
/// <see cref="RandomLlama"/>) as F32 and Q8_0 GGUFs for the top-token test. Prompts are 256 real token ids.
/// </summary>
public sealed class OracleModels : IDisposable
{
    public const int PromptLength = 256;

    private static readonly string[] PromptTexts =
    [
        "The quick brown fox jumps over the lazy dog. In July 1969, Apollo 11 landed on the Moon, and Neil " +
        "Armstrong said: \"That's one small step for man, one giant leap for mankind.\" Rivers carve valleys " +
        "over millions of years; glaciers leave lakes behind when they retreat. The committee met on Tuesday " +
        "to review the budget, approve the minutes, and discuss whether the library should open earlier. ",
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n" +
        "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n" +
        "        self.items.append(item)\n\nfor (int i = 0; i < count; i++) { total += values[i] * 2; }\n",
        "Prices rose 3.7% in 2023, while the median income was $74,580 (up from $70,784). Ünïcödé, naïve café, " +
        "日本語のテキスト, Ελληνικά, русский язык, and emoji 🙂 all appear on the web; 1 + 1 = 2, π ≈ 3.14159. ",
    ];

    private readonly Lazy<string> flatF32, flatHuggingFace, decisiveF32, decisiveQ8;
    private readonly Lazy<int[][]> prompts;

    public OracleModels()
    {
        Directory = Path.Combine(Path.GetTempPath(), "dclm-oracle-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Flat = RandomLlama.Create(new LlamaShape(), seed: 20240601);
        Decisive = RandomLlama.Create(new LlamaShape(), seed: 20240602, outputShare: 0.4);
        flatF32 = new(() => WriteGguf(Flat, "flat-f32.gguf", GgmlType.F32));
        flatHuggingFace = new(() =>
        {
            string directory = PathOf("flat-hf");
            LlamaFiles.WriteHuggingFace(Flat, directory);
            return directory;
        });
        decisiveF32 = new(() => WriteGguf(Decisive, "decisive-f32.gguf", GgmlType.F32));
        decisiveQ8 = new(() => WriteGguf(Decisive, "decisive-q8_0.gguf", GgmlType.Q8_0));
        prompts = new(MakePrompts);
    }

    public string Directory { get; }
    public RandomLlama Flat { get; }
    public RandomLlama Decisive { get; }
    public string FlatF32Gguf => flatF32.Value;
    public string FlatHuggingFaceDirectory => flatHuggingFace.Value;
    public string DecisiveF32Gguf => decisiveF32.Value;
    public string DecisiveQ8Gguf => decisiveQ8.Value;

    /// <summary>
    /// Four prompts of <see cref="PromptLength"/> ids: BOS then prose, code, and numbers with non-Latin text
    /// (each tokenized by llama.cpp and repeated to length), and one of ids drawn uniformly from the vocabulary.
    /// </summary>
    public int[][] Prompts => prompts.Value;

    /// <summary>The first prompt: BOS and English prose.</summary>
    public int[] Prompt => Prompts[0];

    public string PathOf(string name) => Path.Combine(Directory, name);

    private string WriteGguf(RandomLlama model, string name, GgmlType type)
    {
        string path = PathOf(name);
        LlamaFiles.WriteGguf(model, path, type);
        return path;
    }

    private static int[][] MakePrompts()
    {
        using var llama = LlamaCppModel.LoadVocabulary(LlamaFiles.VocabularyPath);
        var result = new List<int[]>();
        foreach (string text in PromptTexts)
        {
            var ids = new List<int> { 1 };
            int[] pieces = llama.Tokenize(text);
            while (ids.Count < PromptLength) ids.AddRange(pieces);
            result.Add(ids.Take(PromptLength).ToArray());
        }
        // Ids 0-2 are <unk>, <s> and </s>; every other id, byte tokens included, is ordinary text.
        var random = new SplitMix64(99);
        result.Add(Enumerable.Range(0, PromptLength).Select(_ => 3 + (int)(random.NextUInt64() % (32000 - 3))).ToArray());
        return result.ToArray();
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
