// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title CarChain usage-based-insurance score
/// @notice A provider computation for CarChain's compute-to-data grants: it runs on the
/// owner's phone over trip features computed from decrypted `trip-gps` records, and only
/// its result leaves the phone.
/// @dev Pure integer arithmetic; every input is one trip's features:
///  - distanceM:   haversine length of the track, metres (rounded);
///  - durationS:   END_TIME - START_TIME, seconds;
///  - nightS:      seconds of the trip between 22:00 and 05:00 UTC (the SDK does not
///                 know the car's time zone, so night is defined in UTC);
///  - speedingS:   seconds spent above the speed limit the owner's SDK was given;
///  - harshEvents: number of consecutive speed samples whose speeds differ by more
///                 than the harsh threshold (km/h).
/// The score starts at 1000 (safest) and loses:
///  - night:    min(300, 300 * nightS / durationS)        (share of driving at night);
///  - speeding: min(400, 800 * speedingS / durationS)     (full penalty at 50% of time);
///  - harsh:    min(300, 10 * harshEvents * 100000 / max(distanceM, 1000))
///              (10 points per harsh event per 100 km, distance floored at 1 km).
/// Night and speeding penalties are 0 when the total duration is 0. Divisions round
/// down. The totals are returned beside the score so the insurer sees the components.
contract UbiScore {
    struct TripFeatures {
        uint256 distanceM;
        uint256 durationS;
        uint256 nightS;
        uint256 speedingS;
        uint256 harshEvents;
    }

    uint256 public constant MAX_SCORE = 1000;
    uint256 public constant NIGHT_PENALTY_MAX = 300;
    uint256 public constant SPEEDING_PENALTY_MAX = 400;
    uint256 public constant HARSH_PENALTY_MAX = 300;

    /// @notice Scores a set of trips.
    /// @return ubiScore 0..1000, higher is safer
    /// @return distanceM total distance, metres
    /// @return durationS total duration, seconds
    /// @return nightS total night seconds
    /// @return speedingS total seconds over the limit
    /// @return harshEvents total harsh speed changes
    function score(TripFeatures[] calldata trips)
        external
        pure
        returns (
            uint256 ubiScore,
            uint256 distanceM,
            uint256 durationS,
            uint256 nightS,
            uint256 speedingS,
            uint256 harshEvents
        )
    {
        for (uint256 i = 0; i < trips.length; i++) {
            TripFeatures calldata t = trips[i];
            distanceM += t.distanceM;
            durationS += t.durationS;
            nightS += t.nightS;
            speedingS += t.speedingS;
            harshEvents += t.harshEvents;
        }
        uint256 nightPenalty = 0;
        uint256 speedingPenalty = 0;
        if (durationS > 0) {
            nightPenalty = _min(NIGHT_PENALTY_MAX, (NIGHT_PENALTY_MAX * nightS) / durationS);
            speedingPenalty = _min(SPEEDING_PENALTY_MAX, (800 * speedingS) / durationS);
        }
        uint256 distanceFloor = distanceM > 1000 ? distanceM : 1000;
        uint256 harshPenalty = _min(HARSH_PENALTY_MAX, (10 * harshEvents * 100000) / distanceFloor);
        ubiScore = MAX_SCORE - nightPenalty - speedingPenalty - harshPenalty;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
