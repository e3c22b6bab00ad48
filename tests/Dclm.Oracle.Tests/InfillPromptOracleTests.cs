using Dclm.TestSupport;
using Dclm.Tokenizers;

namespace Dclm.Oracle.Tests;

/// <summary>
/// The infill layout's inputs checked against llama.cpp itself, reading the same Qwen vocabulary GGUF: the six FIM tokens
/// llama.cpp finds (by the same spellings) and its tokenization of every text part. With those, the ids of each case of
/// infill-prompts.json (llama-server's layout, written from its source) equal what <see cref="InfillPrompt"/> builds.
/// </summary>
public sealed class InfillPromptOracleTests
{
    [Fact]
    public void TheQwenFimTokensAndEveryInfillPromptAgreeWithLlamaCpp()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dclm-infill-oracle-{Environment.ProcessId}.vocab.gguf");
        QwenFiles.WriteVocabulary(path);
        try { Check(path); }
        finally { File.Delete(path); }
    }

    private static void Check(string path)
    {
        var ours = Tokenizer.Load(path);
        using var llamaCpp = LlamaCppModel.LoadVocabulary(path);

        foreach (string role in new[] { "prefix", "suffix", "middle", "pad", "repository", "file_separator" })
        {
            int? theirs = llamaCpp.FillInMiddle(role);
            Assert.NotNull(theirs);
            int mine = role == "pad" ? ours.FillInMiddle.Pad!.Value : InfillFixture.Role(ours.FillInMiddle, role);
            Assert.True(theirs == mine, $"{role}: llama.cpp {theirs}, ours {mine}");
        }
        foreach (var fixture in InfillFixture.Load())
        {
            int[] expected = fixture.ExpectedIds(role => llamaCpp.FillInMiddle(role)!.Value, llamaCpp.Tokenize);
            var input = new InfillInput(llamaCpp.Tokenize(fixture.Prefix, false), llamaCpp.Tokenize(fixture.Suffix, false), fixture.ExtraFiles,
                llamaCpp.Tokenize(fixture.Prompt, true));
            int[] actual = InfillPrompt.Build(ours, input, fixture.Budget);
            Assert.True(expected.SequenceEqual(actual), $"{fixture.Name}:\nllama.cpp {string.Join(' ', expected)}\nours      {string.Join(' ', actual)}");
        }
    }
}
