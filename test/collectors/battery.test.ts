// Battery collector against power_supply trees written here. No capture of a real
// /sys/class/power_supply is in the fixture set; attribute names and units are the kernel's
// (Documentation/ABI/testing/sysfs-class-power: µW, µA, µV, µWh), values are made up so the
// expected watts are round.
import { afterEach, describe, expect, it } from 'vitest';
import { batteryCollector } from '../../agent/collectors/battery.js';
import { detectOrFail, sample, scenarioTree, type Tree } from './harness.js';

let tree: Tree | undefined;
afterEach(() => tree?.remove());

function supply(t: Tree, name: string, attrs: Record<string, string | number>): void {
  for (const [file, value] of Object.entries(attrs)) t.write(`sys/class/power_supply/${name}/${file}`, `${value}\n`);
}

describe('battery collector', () => {
  it('reads capacity and power_now, negative while discharging; mains (type Mains) is not a battery', async () => {
    tree = scenarioTree();
    supply(tree, 'AC', { type: 'Mains', online: 0 });
    supply(tree, 'BAT0', { type: 'Battery', status: 'Discharging', capacity: 87, power_now: 7_350_000, present: 1 });
    expect(await sample(await detectOrFail(batteryCollector, tree.ctx))).toEqual({ 'battery.bat0.capacity': 87, 'battery.bat0.power': -7.35 });
  });

  it('is positive while charging and follows status changes between ticks', async () => {
    tree = scenarioTree();
    supply(tree, 'BAT0', { type: 'Battery', status: 'Charging', capacity: 40, power_now: 25_000_000 });
    const battery = await detectOrFail(batteryCollector, tree.ctx);
    expect(await sample(battery)).toEqual({ 'battery.bat0.capacity': 40, 'battery.bat0.power': 25 });
    supply(tree, 'BAT0', { status: 'Discharging', capacity: 39, power_now: 9_000_000 });
    expect(await sample(battery)).toEqual({ 'battery.bat0.capacity': 39, 'battery.bat0.power': -9 });
  });

  it('multiplies current_now (µA) by voltage_now (µV) where there is no power_now, and uses the status over a gauge’s own sign', async () => {
    tree = scenarioTree();
    // A fuel gauge that signs current itself (bq27xxx-style): negative while discharging.
    supply(tree, 'bq27546-0', { type: 'Battery', status: 'Discharging', capacity: 64, current_now: -500_000, voltage_now: 3_800_000 });
    expect(await sample(await detectOrFail(batteryCollector, tree.ctx))).toEqual({ 'battery.bq27546_0.capacity': 64, 'battery.bq27546_0.power': -1.9 });
  });

  it('keeps the driver’s sign when the status says neither charging nor discharging', async () => {
    tree = scenarioTree();
    supply(tree, 'BAT1', { type: 'Battery', status: 'Not charging', capacity: 100, current_now: -100_000, voltage_now: 12_000_000 });
    expect(await sample(await detectOrFail(batteryCollector, tree.ctx))).toEqual({ 'battery.bat1.capacity': 100, 'battery.bat1.power': -1.2 });
  });

  it('derives capacity from energy_now / energy_full when there is no capacity file', async () => {
    tree = scenarioTree();
    supply(tree, 'BAT0', { type: 'Battery', status: 'Full', energy_now: 45_000_000, energy_full: 50_000_000, power_now: 0 });
    expect(await sample(await detectOrFail(batteryCollector, tree.ctx))).toEqual({ 'battery.bat0.capacity': 90, 'battery.bat0.power': 0 });
  });

  it('leaves out a capacity past 100 % and an unreadable power, keeping the rest', async () => {
    tree = scenarioTree();
    supply(tree, 'BAT0', { type: 'Battery', status: 'Discharging', capacity: 101, power_now: 'garbage' });
    supply(tree, 'BAT1', { type: 'Battery', status: 'Discharging', capacity: 55, power_now: 4_000_000 });
    expect(await sample(await detectOrFail(batteryCollector, tree.ctx))).toEqual({ 'battery.bat1.capacity': 55, 'battery.bat1.power': -4 });
  });

  it('skips a peripheral’s battery (scope Device) and returns null when that is all there is', async () => {
    tree = scenarioTree();
    supply(tree, 'hidpp_battery_0', { type: 'Battery', scope: 'Device', status: 'Discharging', capacity: 70 });
    supply(tree, 'AC', { type: 'Mains', online: 1 });
    expect(await batteryCollector.detect(tree.ctx)).toBeNull();
  });

  it('returns null without /sys/class/power_supply', async () => {
    tree = scenarioTree('x86-vm');
    expect(await batteryCollector.detect(tree.ctx)).toBeNull();
  });
});
