using Dclm.Checkpoints;
using Dclm.Inference;
using Microsoft.ML.OnnxRuntimeGenAI;
using Xunit.Abstractions;

namespace Dclm.Export.Tests;

/// <summary>onnxruntime-genai (Microsoft.ML.OnnxRuntimeGenAI) loads the exported directory and generates from it.</summary>
[Collection(ExportCollection.Name)]
public sealed class GenAiTests(ExportedModels models, ITestOutputHelper output)
{
    private const int NewTokens = 24;

    [Theory]
    [InlineData("dclm-tiny")]
    [InlineData("openlm")]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void GeneratesTheEnginesGreedyTokens(string name)
    {
        var prompt = models.Tokens(name, 12);
        List<int> ours;
        using (var model = ModelLoader.Load(models.Model(name)))
        {
            // `dclm generate --temperature 0`, stopping where genai stops: at the end-of-sequence id its config names
            // (0 for a model without a tokenizer).
            var generator = new TokenGenerator(model.Model, endOfSequenceId: model.Tokenizer?.EndOfSequenceId ?? 0);
            ours = generator.Generate(prompt, SamplingOptions.Greedy with { MaxTokens = NewTokens }).ToList();
        }

        using var genAiModel = new Model(models.Export(name));
        using var parameters = new GeneratorParams(genAiModel);
        parameters.SetSearchOption("max_length", prompt.Length + NewTokens);
        parameters.SetSearchOption("do_sample", false);
        using var genAi = new Generator(genAiModel, parameters);
        genAi.AppendTokens(prompt);
        while (!genAi.IsDone()) genAi.GenerateNextToken();
        var theirs = genAi.GetSequence(0).ToArray()[prompt.Length..];
        Assert.True(ours.Count > 1, "the engine stopped at once: the test would compare nothing");

        output.WriteLine($"{name}: ours {string.Join(' ', ours)}");
        output.WriteLine($"{name}: genai {string.Join(' ', theirs)}");
        Assert.Equal(ours, theirs);
    }

    [Fact]
    public void ItsTokenizerReadsTheWrittenTokenizerFiles()
    {
        // The GGUF's GPT-NeoX vocabulary, written as tokenizer.json, tokenizes as our tokenizer does.
        using var genAiModel = new Model(models.Export("openlm-neox"));
        using var tokenizer = new Tokenizer(genAiModel);
        using var ours = ModelLoader.Load(models.Model("openlm-neox"));
        foreach (string text in new[] { ExportedModels.Text, "  Hello,  world!\n\tÜnïcödé 日本語 🙂 3.14159" })
        {
            using var sequences = tokenizer.Encode(text);
            Assert.Equal(ours.RequireTokenizer().Encode(text), sequences[0].ToArray());
            Assert.Equal(text, tokenizer.Decode(sequences[0]));
        }
    }
}
