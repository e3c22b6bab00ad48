using Dclm.Data.Language;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

public class LanguageTests
{
    private static EnglishFilter Filter(bool lowAccuracy) => new(0.65, ["en", "de", "fr", "es", "it", "nl"], lowAccuracy, maximumCharacters: 2000);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EnglishProseScoresAboveThreshold(bool lowAccuracy)
    {
        var filter = Filter(lowAccuracy);
        foreach (var document in Read("prose.jsonl.zst").Take(10))
        {
            Assert.True(filter.EnglishConfidence(document.Text) >= 0.65, document.Id);
            Assert.True(filter.Apply(document).IsKept);
            Assert.NotNull(document.LanguageScore);
        }
    }

    [Theory]
    [InlineData("Der Ausschuss der Stadt hat beschlossen, dass die neue Bibliothek länger geöffnet sein wird, damit mehr Menschen lesen können.")]
    [InlineData("Le comité de la ville a décidé que la nouvelle bibliothèque serait ouverte plus longtemps pour les lecteurs du quartier.")]
    [InlineData("El comité de la ciudad decidió que la nueva biblioteca abriría durante más horas para los lectores del barrio.")]
    public void OtherLanguagesScoreBelowThreshold(string text)
    {
        foreach (var filter in new[] { Filter(true), Filter(false) })
        {
            Assert.True(filter.EnglishConfidence(text) < 0.65);
            Assert.Equal("not_english", filter.Apply(Doc(text)).DropRule);
        }
    }

    [Fact]
    public void UnknownLanguageCodeIsRejectedWithItsName()
    {
        var error = Assert.Throws<ArgumentException>(() => new EnglishFilter(0.65, ["xx"], false, 100));
        Assert.Contains("'xx'", error.Message);
    }
}
