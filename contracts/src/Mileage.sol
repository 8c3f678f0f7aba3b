// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title CarChain mileage total
/// @notice A provider computation for CarChain's compute-to-data grants, for used-car
/// valuation: the total distance of a set of trips, computed on the owner's phone over
/// decrypted `trip-gps` records; only the total and the trip count leave the phone.
/// @dev Each input is one trip's haversine track length in metres (rounded). The sum
/// reverts with an arithmetic panic on overflow (Solidity 0.8 checked arithmetic).
contract Mileage {
    /// @notice Sums the distances of a set of trips.
    /// @return totalM total distance, metres
    /// @return trips number of trips
    function total(uint256[] calldata distancesM) external pure returns (uint256 totalM, uint256 trips) {
        for (uint256 i = 0; i < distancesM.length; i++) {
            totalM += distancesM[i];
        }
        trips = distancesM.length;
    }
}
