using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.TestSupport;

namespace Dclm.Models.Tests;

/// <summary>Our open_lm forward pass against logits from an independent implementation.</summary>
public class OpenLmFixtureTests
{
    [Theory]
    [InlineData("dclm-tiny")]
    [InlineData("dclm-tiny-bf16")]
    public void PromptLogitsMatchTheReference(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var loaded = ModelLoader.Load(fixture.Directory);
        var logits = ReferenceFixture.AllLogits(loaded.Model, fixture.Prompt);
        Assert.True(fixture.RelativeError(logits) <= 1e-4, $"relative error {fixture.RelativeError(logits):E2}");
    }

    [Theory]
    [InlineData("dclm-tiny")]
    [InlineData("dclm-tiny-bf16")]
    public void GreedyContinuationMatchesTheReference(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var loaded = ModelLoader.Load(fixture.Directory);
        var generator = new TokenGenerator(loaded.Model, endOfSequenceId: null);
        var options = SamplingOptions.Greedy with { MaxTokens = fixture.GreedyContinuation.Length };
        var generated = generator.Generate(fixture.Prompt, options).ToArray();
        Assert.Equal(fixture.GreedyContinuation, generated);
    }

    [Fact]
    public void DecodingOneTokenAtATimeEqualsBatchedPrefill()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        using var loaded = ModelLoader.Load(fixture.Directory);
        var model = loaded.Model;
        var cache = model.CreateCache();
        var stepwise = new float[fixture.Logits.Length];
        for (int i = 0; i < fixture.Prompt.Length; i++)
            model.Forward(ForwardBatch.Sequence(fixture.Prompt.AsSpan(i, 1), i), cache, stepwise.AsSpan(i * fixture.Vocabulary, fixture.Vocabulary));
        Assert.True(fixture.RelativeError(stepwise) <= 1e-4);
    }
}
