using Dclm.Formats;
using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers.Tests;

/// <summary>
/// FIM token discovery as llama.cpp does it: ids a GGUF records win, spellings fill the rest, and a vocabulary with neither
/// refuses infill naming what is missing. The layout of a vocabulary with a BOS and no repository tokens (CodeLlama's
/// case) follows llama-server: "--- snippet ---" separators, extra context before the BOS.
/// </summary>
public sealed class FillInMiddleTokensTests
{
    [Fact]
    public void QwenSpellingsAreFoundAndGptNeoXHasNone()
    {
        var qwen = Fixtures.Json("qwen3");
        Assert.Equal(new FillInMiddleTokens(151659, 151661, 151660, 151662, 151663, 151664), qwen.FillInMiddle);
        Assert.Null(qwen.FillInMiddle.MissingReason());
        var neox = Fixtures.Gguf("gpt-neox-20b");
        Assert.False(neox.FillInMiddle.SupportsInfill);
        Assert.Equal("Infill is not supported by this model: prefix token is missing. suffix token is missing. middle token is missing.", neox.FillInMiddle.MissingReason());
        var error = Assert.Throws<NotSupportedException>(() => InfillPrompt.Build(neox, new InfillInput([1], [2], [], []), new InfillBudget(2048, 4096, -1)));
        Assert.Contains("prefix token is missing", error.Message);
    }

    private static string WriteSpmWithDeclaredIds(TempDirectory directory, long prefix)
    {
        // llama-spm (BOS added) with CodeLlama-style keys: prefix/suffix/middle by id, no repository or file separator.
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        using (var vocabulary = GgufFile.Open(Fixtures.Path("llama-spm.vocab.gguf")))
            foreach (var (key, value) in vocabulary.Metadata)
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
        writer.AddUInt32("tokenizer.ggml.prefix_token_id", (uint)prefix);
        writer.AddUInt32("tokenizer.ggml.suffix_token_id", 31001);
        writer.AddUInt32("tokenizer.ggml.middle_token_id", 31002);
        writer.AddUInt32("tokenizer.ggml.fim_pad_token_id", uint.MaxValue); // "none", as llama.cpp writes it
        string path = directory.File("spm-fim.gguf");
        writer.Write(path);
        return path;
    }

    [Fact]
    public void DeclaredIdsWinAndTheLayoutPutsSnippetsBeforeTheBos()
    {
        using var directory = new TempDirectory();
        var tokenizer = Tokenizer.Load(WriteSpmWithDeclaredIds(directory, 31000));
        Assert.Equal(new FillInMiddleTokens(31000, 31001, 31002), tokenizer.FillInMiddle);
        Assert.True(tokenizer.AddBeginningOfSequence);

        var input = new InfillInput(tokenizer.Encode("int f() {"), tokenizer.Encode("}"), [new InfillFile("a.c", "int g;")], []);
        int[] actual = InfillPrompt.Build(tokenizer, input, new InfillBudget(2048, 4096, -1));
        // llama-server: snippet separator, the file's text, then BOS, [PRE] prefix, [SUF] suffix, [MID]; no file names.
        int[] expected = [.. tokenizer.Encode("\n\n--- snippet ---\n\n"), .. tokenizer.Encode("int g;"), tokenizer.BeginningOfSequenceId!.Value,
            31000, .. tokenizer.Encode("int f() {"), 31001, .. tokenizer.Encode("}"), 31002];
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ADeclaredIdOutsideTheVocabularyNamesTheRole()
    {
        using var directory = new TempDirectory();
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(WriteSpmWithDeclaredIds(directory, 99999)));
        Assert.Contains("fill-in-the-middle prefix id 99999", error.Message);
    }
}
