namespace Dclm.Inference.Engine;

/// <summary>The engine's waiting queue is full (or the engine is stopping); the caller should retry later.</summary>
public sealed class EngineBusyException(string message) : Exception(message);

/// <summary>A request that breaks the engine's limits; <see cref="Field"/> names the offending input.</summary>
public sealed class RequestValidationException(string field, string message) : Exception(message)
{
    /// <summary>The request field at fault, e.g. "max_tokens".</summary>
    public string Field { get; } = field;
}
