using Dclm.Data.Pipeline;

namespace Dclm.Data.Tests;

public class ConfigTests
{
    // configs/pipeline.yaml is linked into the test output as fixtures/pipeline.yaml.
    private static string RepositoryConfig() => Fixtures.PathOf("pipeline.yaml");

    [Fact]
    public void DefaultPipelineFileHasDclmBaselineThresholds()
    {
        var config = PipelineConfigLoader.Load(RepositoryConfig());
        Assert.Equal(0.65, config.Language.Threshold);
        Assert.Equal(50, config.Heuristics.MinWords);
        Assert.Equal(100_000, config.Heuristics.MaxWords);
        Assert.Equal(3, config.Heuristics.MinMeanWordLength);
        Assert.Equal(10, config.Heuristics.MaxMeanWordLength);
        Assert.Equal(0.1, config.Heuristics.MaxSymbolToWordRatio);
        Assert.Equal(0.9, config.Heuristics.MaxBulletLineFraction);
        Assert.Equal(0.3, config.Heuristics.MaxEllipsisLineFraction);
        Assert.Equal(0.2, config.Heuristics.MaxNonAlphabeticWordFraction);
        Assert.Equal(2, config.Heuristics.MinStopWords);
        Assert.Equal([0.20, 0.18, 0.16], config.Heuristics.Repetition.TopNgramCharFractions);
        Assert.Equal([0.15, 0.14, 0.13, 0.12, 0.11, 0.10], config.Heuristics.Repetition.DuplicateNgramCharFractions);
        Assert.Equal(0.05, config.Heuristics.LineRemovals.MaxRemovedWordFraction);
        Assert.False(config.Dedup.Exact);
        Assert.Equal("bff", config.Dedup.Method);
        Assert.Equal(13, config.Dedup.Bff.NgramSize);
        Assert.Equal(0.8, config.Dedup.Bff.Threshold);
        Assert.Equal(0.1, config.Quality.KeepTopFraction);
        Assert.Equal(["", "builtin:strict", "builtin:hard", "builtin:soft"], config.UrlFilter.Banlists.Select(b => b.File));
        Assert.Equal(2, config.UrlFilter.Banlists[3].NumBannedSubstrs);
        Assert.Equal(3, config.Heuristics.LineRemovals.Substrings.Count);
    }

    [Fact]
    public void TheRepositoryFileAndTheBuiltInDefaultsAgree()
    {
        // Every value in configs/pipeline.yaml is DCLM-Baseline's, so is every default of PipelineConfig.
        var options = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        var fromFile = PipelineConfigLoader.Load(RepositoryConfig());
        var builtIn = new PipelineConfig();
        fromFile.BaseDirectory = builtIn.BaseDirectory = "";
        fromFile.Quality.Model = builtIn.Quality.Model;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(builtIn, options), System.Text.Json.JsonSerializer.Serialize(fromFile, options));
    }

    [Theory]
    [InlineData("language:\n  threshold: 1.5\n", "language.threshold")]
    [InlineData("dedup:\n  method: simhash\n", "dedup.method")]
    [InlineData("heuristics:\n  repetition:\n    top_ngram_char_fractions: [0.2]\n", "top_ngram_char_fractions")]
    [InlineData("heuristics:\n  min_wrds: 5\n", "line 2")]
    [InlineData("language: [1, 2\n", "line")]
    [InlineData("url_filter:\n  banlists:\n    - file: builtin:nope\n", "url_filter.banlists[0].file")]
    [InlineData("heuristics:\n  page_length_unit: sentence\n", "heuristics.page_length_unit")]
    [InlineData("heuristics:\n  line_removals:\n    substrings:\n      - { banlist: [x], location: middle }\n", "substrings[0].location")]
    public void BadConfigsNameTheField(string yaml, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => PipelineConfigLoader.Parse(yaml, "p.yaml"));
        Assert.StartsWith("p.yaml", error.Message);
        Assert.Contains(expected, error.Message);
    }
}
