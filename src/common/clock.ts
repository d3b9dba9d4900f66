import { Injectable } from '@nestjs/common';

/** The time, as the service sees it. Tests replace it to reach retention boundaries exactly. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
